"""The run record, defined once: typed classes for the result file and everything in it.

Every producer (runner, power layer, declare, benchmark conversion, fleet,
miners, serving) builds through these types, every consumer (sizing, report,
tables, validation, compare, leaderboard) reads them; the shipped JSON Schema
(``bench/schemas/result-2.schema.json``) is generated from them
(``python -m bench.record.schema``) and a test keeps the two equal.
"""

from bench.record.document import (
    SCHEMA_ID,
    Cpu,
    Document,
    Fleet,
    FleetNode,
    Gpu,
    Harness,
    NodeTotal,
    Settings,
    Signature,
    Submitter,
    System,
    Timing,
    TorchInfo,
    Unavailable,
    WorkloadTotal,
    new_document,
    utc_now,
)
from bench.record.io import (
    MAX_BYTES,
    check_writable,
    dumps,
    from_json,
    load,
    parse_json,
    read_text,
    schema_errors,
    write_atomic,
    write_result,
)
from bench.record.power import Crosscheck, Gap, MeterFigure, MinMeanMax, PowerBlock, Quality, TelemetrySummary, no_power
from bench.record.run import Contention, Efficiency, Hardware, Phase, Run, Throughput, contention_reasons, failed_run
from bench.record.setting import KnobValue, Setting

__all__ = [
    "MAX_BYTES", "SCHEMA_ID", "Contention", "Cpu", "Crosscheck", "Document", "Efficiency", "Fleet", "FleetNode", "Gap", "Gpu",
    "Hardware", "Harness", "KnobValue", "MeterFigure", "MinMeanMax", "NodeTotal", "Phase", "PowerBlock", "Quality", "Run",
    "Setting", "Settings", "Signature", "Submitter", "System", "TelemetrySummary", "Throughput", "Timing", "TorchInfo",
    "Unavailable", "WorkloadTotal", "check_writable", "contention_reasons", "dumps", "failed_run", "from_json",
    "load", "new_document", "no_power", "parse_json", "read_text", "schema_errors", "utc_now", "write_atomic", "write_result",
]
