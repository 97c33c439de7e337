"""MeterSpec: the one grammar of meter specs, checked against each back-end's declaration, secrets hidden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.power.discovery import OPENERS
from bench.power.spec import BACKENDS, MeterSpec, MeterSpecError, grammar_rows, outlet_spec


def refused(text: str, **kw: object) -> str:
    """The one-line message of a spec that does not parse (a usage error, exit 2)."""
    with pytest.raises(MeterSpecError) as info:
        MeterSpec.parse(text, **kw)  # type: ignore[arg-type]
    message = str(info.value)
    assert isinstance(info.value, UsageError) and info.value.exit_code == 2 and "\n" not in message
    return message


def test_parse_types_the_options_and_knows_the_defaults() -> None:
    spec = MeterSpec.parse("redfish:https://bmc/redfish/v1/Chassis/1,insecure,timeout=2.5")
    assert (spec.name, spec.target) == ("redfish", "https://bmc/redfish/v1/Chassis/1")
    assert spec["insecure"] is True and spec["timeout"] == 2.5 and spec.given("timeout")
    plain = MeterSpec.parse("redfish:https://bmc/redfish/v1/Chassis/1")
    assert plain["insecure"] is False and plain["timeout"] == 5.0 and not plain.given("timeout")
    assert MeterSpec.parse("redfish:https://bmc/x,insecure=no")["insecure"] is False
    snmp = MeterSpec.parse("snmp:pdu-7:1161,outlet=1.1.5,mib=APC,period=0.5")
    assert (snmp.target, snmp["outlet"], snmp["mib"], snmp["period"]) == ("pdu-7:1161", "1.1.5", "apc", 0.5)
    labels = MeterSpec.parse("prometheus:http://h:9400/metrics,metric=DCGM_FI_DEV_POWER_USAGE,label=gpu=0,"
                             "label=Hostname=~n[0-9]+,sum")
    assert labels["label"] == ("gpu=0", "Hostname=~n[0-9]+") and labels["sum"] is True and labels["unit"] is None
    assert MeterSpec.parse("nvml:0+1").target == "0+1" and MeterSpec.parse("nvml").target is None
    assert MeterSpec.parse("rapl") == MeterSpec.build("rapl")
    assert MeterSpec.parse("csv:pdu.csv,offset=-2.5,scope=node") == MeterSpec.build("csv", "pdu.csv", "offset=-2.5,scope=node")


@pytest.mark.parametrize("text, needle", [
    ("nosuch", "unknown meter 'nosuch' (known: rapl, nvml, model, ipmi, redfish, csv, prometheus, snmp)"),
    ("redfish:https://bmc/x,verify=no", "option 'verify' not understood (redfish options: insecure, timeout=S)"),
    ("redfish:https://bmc/x,timeout=soon", "option timeout='soon' is not a number"),
    ("redfish:https://bmc/x,timeout=0", "option timeout='0' must be positive"),
    ("redfish:https://bmc/x,timeout=nan", "is not a finite number"),
    ("redfish:https://bmc/x,timeout", "option timeout needs a value: timeout=S"),
    ("redfish:https://bmc/x,insecure=maybe", "expected insecure alone, or insecure=yes or insecure=no"),
    ("redfish:https://bmc/x,timeout=1,timeout=2", "option timeout given twice"),
    ("redfish:https://bmc/x,,insecure", "an empty option"),
    ("redfish", "needs the chassis URL: redfish:https://BMC/redfish/v1/Chassis/ID"),
    ("redfish:bmc/redfish/v1/Chassis/1", "'bmc/redfish/v1/Chassis/1' is not an http(s) URL"),
    ("rapl:0", "rapl takes no target"),
    ("csv:pdu.csv,scope=gpu:0", "option scope='gpu:0': expected one of wall, node"),
    ("csv:pdu.csv,accuracy=1", "option accuracy='1' is a fraction: accuracy=0.01 for 1%"),
    ("prometheus:http://h/metrics", "needs metric=NAME"),
    ("prometheus:http://h/metrics,metric=x,scope=gpu", "option scope='gpu' is not node, wall, gpu:N"),
    ("snmp:pdu,outlet=A1", "option outlet='A1' is not an outlet number"),
    ("snmp:pdu,mib=cyberpower", "option mib='cyberpower': expected one of auto, apc, raritan, servertech, eaton"),
    ("nvml:0,1", "option '1' not understood (nvml options: none); several GPUS are joined with '+': nvml:0+1"),
])
def test_a_wrong_spec_is_one_line_naming_the_option(text: str, needle: str) -> None:
    message = refused(text)
    assert message.startswith("--meter ") and needle in message


def test_secrets_never_print() -> None:
    spec = MeterSpec.parse("snmp:pdu-7,community=s3cret,outlet=3")
    assert spec["community"] == "s3cret" and spec.text() == "snmp:pdu-7,community=s3cret,outlet=3"
    for shown in (spec.redacted(), str(spec), repr(spec), f"{spec}"):
        assert "s3cret" not in shown and "community=***" in shown
    token = MeterSpec.parse("prometheus:https://h/metrics,metric=m_joules,token=abc123")
    assert "abc123" not in str(token) and "token=***" in str(token)
    url = MeterSpec.parse("redfish:https://admin:pa55@bmc/redfish/v1/Chassis/1")
    assert "pa55" not in str(url) and "admin:***@bmc" in str(url)
    # refused specs hide them too: a known secret, a misspelt one, every value of an unknown meter
    assert "s3cret" not in refused("snmp:pdu,community=s3cret,timeout=later")
    assert "s3cret" not in refused("snmp:pdu,comunity=s3cret")
    assert "s3cret" not in refused("snmp:pdu,community=s3cret,community=other")
    assert "s3cret" not in refused("nosuch:x,community=s3cret")
    # where credentials must not be written (a file), a secret option is refused without echoing it
    message = refused("snmp:pdu,community=s3cret", where="--outlets map.csv: line 2", secrets=False)
    assert message.startswith("--outlets map.csv: line 2 ") and "SNMP_COMMUNITY" in message and "s3cret" not in message


def test_outlet_spec_is_the_snmp_grammar_with_commas() -> None:
    spec = outlet_spec("pdu-7:1161", "12", "mib=apc,period=1", where="--outlets map.csv: line 3")
    assert spec == MeterSpec.parse("snmp:pdu-7:1161,outlet=12,mib=apc,period=1")
    assert outlet_spec("pdu-7", "1.1.5", ["mib=raritan", " timeout=0.5 "], where="w")["timeout"] == 0.5
    assert outlet_spec("pdu-7", "4", "", where="w").text() == "snmp:pdu-7,outlet=4"
    with pytest.raises(MeterSpecError, match="line 3 .*community= does not belong here") as info:
        outlet_spec("pdu-7", "12", "community=s3cret", where="--outlets map.csv: line 3")
    assert "s3cret" not in str(info.value)
    with pytest.raises(MeterSpecError, match="option 'phase' not understood"):
        outlet_spec("pdu-7", "12", "mib=apc,period=1,phase=1", where="w")
    with pytest.raises(MeterSpecError, match="option mib='apc;period=1'"):
        outlet_spec("pdu-7", "12", "mib=apc;period=1", where="w")  # the old ';' separator is refused, not guessed
    with pytest.raises(MeterSpecError, match="is not an outlet number"):
        outlet_spec("pdu-7", "A1", "", where="w")
    with pytest.raises(MeterSpecError, match="the outlet is its own column"):
        outlet_spec("pdu-7", "1", "outlet=2", where="w")


def test_grammar_rows_render_every_declaration() -> None:
    rows = {r["name"]: r for r in grammar_rows()}
    assert list(rows) == list(BACKENDS) == list(OPENERS)
    redfish = rows["redfish"]
    assert redfish["form"] == "redfish:URL[,insecure][,timeout=S]" and redfish["argument"] == "required"
    assert redfish["target"] == {"metavar": "URL", "required": True, "help": "the chassis URL",
                                 "example": "https://BMC/redfish/v1/Chassis/ID"}
    assert redfish["options"][1] == {"name": "timeout", "type": "float", "default": 5.0, "secret": False,
                                     "help": "seconds a request may take", "form": "timeout=S", "choices": [],
                                     "repeat": False, "required": False}
    assert rows["prometheus"]["short_form"] == "prometheus:URL,metric=NAME"
    assert {o["name"] for r in rows.values() for o in r["options"] if o["secret"]} == {"community", "token"}
    assert rows["nvml"]["per_device"] and rows["nvml"]["argument"] == "optional" and rows["rapl"]["argument"] == "none"
    assert rows["ipmi"]["reach"] == "here-or-target" and rows["model"]["modelled"]
    json.dumps(rows)  # the docs generator and `sitebench list --json` serialise them as they are


def test_cli_help_and_list_use_the_grammar(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "prometheus:URL,metric=NAME" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "NAME[:TARGET][,key=value]" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("command", [["run", "-w", "sha256"], ["serve", "--base-url", "http://127.0.0.1:9"]])
def test_run_and_serve_refuse_a_bad_spec_alike(command: list[str], capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    rc = main([*command, "--out", f"{tmp_path}/r.json", "--meter", "snmp:pdu,community=s3cret,phase=1"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "s3cret" not in err
    assert "--meter snmp:pdu,community=***,phase=***: option 'phase' not understood" in err
