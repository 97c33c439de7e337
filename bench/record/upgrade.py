"""Version 1 result files (``sitebench.result/1``) upgraded to version 2 before they are typed.

What changed in version 2:

- ``throughput.rate`` (total units / total duration) and ``throughput.unstable`` are new; statistics a
  version 1 file left out are computed from its samples;
  ``ceiling_fraction`` is ``rate / ceiling`` (it was ``median / ceiling``);
- ``power.idle_w`` and each meter's ``idle_w`` are gone (they repeated ``idle_before_w``);
- ``power.window_energy_j`` is new (empty in an upgraded file: version 1 did not record it);
- a meter's ``telemetry_summary`` holds its series under ``series``;
- ``power.scope_class`` is derived where version 1 left it out (from ``scope`` and ``measured``);
- ``power.valid_for_sizing`` is required; a version 1 file without it counts as valid when it has a
  power figure, as version 1 read it;
- ``system.declared`` is gone (``source`` says it); keys version 1 allowed but never
  defined are dropped, so the upgraded file fits the closed version 2 format.

The upgrade changes only shapes: a number that is wrong in the version 1 file stays
wrong, so validation still finds it. A signature is checked against the file's own text.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from pydantic import BaseModel

from bench.record.document import SCHEMA_ID, Cpu, Document, Fleet, Gpu, Settings, Submitter, System, TorchInfo
from bench.record.power import Crosscheck, MeterFigure, PowerBlock
from bench.record.run import UNSTABLE_CV, Run, Throughput
from bench.stats import summarize

_NUMBER = (int, float)


def _keep(obj: Any, model: type[BaseModel]) -> Any:
    """``obj`` with only the keys ``model`` defines (non-dicts unchanged)."""
    if not isinstance(obj, dict):
        return obj
    names = {f.alias or name for name, f in model.model_fields.items()}
    return {k: v for k, v in obj.items() if k in names}


def _num(x: Any) -> bool:
    return isinstance(x, _NUMBER) and not isinstance(x, bool) and math.isfinite(x)


def _system(system: Any) -> Any:
    if not isinstance(system, dict):
        return system
    out = _keep(system, System)
    if isinstance(out.get("cpu"), dict):
        out["cpu"] = _keep(out["cpu"], Cpu)
    if isinstance(out.get("torch"), dict):
        out["torch"] = _keep(out["torch"], TorchInfo)
    if isinstance(out.get("gpus"), list):
        out["gpus"] = [_keep(g, Gpu) for g in out["gpus"]]
    return out


def _meter(m: Any) -> Any:
    if not isinstance(m, dict):
        return m
    out = _keep(m, MeterFigure)
    if "kind" not in out and isinstance(m.get("name"), str):  # benchmark conversions kept only name and scope
        out["kind"] = m["name"].split(":", 1)[0] or "unknown"
    summary = m.get("telemetry_summary")
    if isinstance(summary, dict):
        out["telemetry_summary"] = {
            "series": {k: v for k, v in summary.items() if k not in ("throttle_reasons", "throttled")},
            **{k: summary[k] for k in ("throttle_reasons", "throttled") if k in summary},
        }
    return out


def _scope_class(p: dict[str, Any], declared: bool) -> str | None:
    """The scope class version 1 sizing derived when the power layer had not recorded one."""
    if not _num(p.get("avg_w")):
        return None
    parts = set(str(p.get("scope") or "").split("+"))
    if not declared and (not p.get("measured") or "modelled" in parts):
        return "modelled"
    return next((wide for wide in ("wall", "node") if wide in parts), "components")


def _power(p: Any, declared: bool) -> Any:
    if not isinstance(p, dict):
        return p
    out = _keep(p, PowerBlock)
    if out.get("scope_class") is None:
        out["scope_class"] = _scope_class(p, declared)
    if isinstance(out.get("meters"), list):
        out["meters"] = [_meter(m) for m in out["meters"]]
    if isinstance(out.get("crosschecks"), list):
        out["crosschecks"] = [_keep(c, Crosscheck) for c in out["crosschecks"]]
    if out.get("window_s") == 0:
        out["window_s"] = None
    if "valid_for_sizing" not in out:  # written before the power layer judged windows: valid, as version 1 read it
        out["valid_for_sizing"] = _num(out.get("avg_w"))
    return out


def _throughput(t: Any) -> Any:
    if not isinstance(t, dict):
        return t
    out = _keep(t, Throughput)
    units, durs = t.get("units"), t.get("durations_s")
    if (isinstance(units, list) and isinstance(durs, list) and units and len(units) == len(durs)
            and all(_num(u) for u in units) and all(_num(d) and d > 0 for d in durs)):
        out["rate"] = sum(units) / sum(durs)
    elif _num(t.get("median")):
        out["rate"] = t["median"]  # a declared or converted figure without windows
    samples = t.get("samples")
    if isinstance(samples, list) and samples and all(_num(x) for x in samples):
        stats = summarize(samples)  # statistics version 1 left out; a wrong one it kept stays wrong
        for key, value in stats.items():
            out.setdefault(key, value)
    if _num(out.get("cv")):
        out["unstable"] = out["cv"] > UNSTABLE_CV
    return out


def _run(run: Any, declared: bool) -> Any:
    if not isinstance(run, dict):
        return run
    out = _keep(run, Run)
    out["throughput"] = _throughput(run.get("throughput"))
    out["power"] = _power(run.get("power"), declared)
    if isinstance(out.get("metrics"), dict):
        out["metrics"] = {k: v for k, v in out["metrics"].items() if not isinstance(v, (dict, list))}
    thr: dict[str, Any] = run["throughput"] if isinstance(run.get("throughput"), dict) else {}
    med, ceiling, frac = thr.get("median"), run.get("ceiling"), run.get("ceiling_fraction")
    rate = out["throughput"].get("rate") if isinstance(out["throughput"], dict) else None
    if _num(med) and _num(ceiling) and _num(frac) and _num(rate):
        med, ceiling, frac, rate = float(med), float(ceiling), float(frac), float(rate)  # type: ignore[arg-type]
        if ceiling > 0 and math.isclose(frac, med / ceiling, rel_tol=1e-6):
            out["ceiling_fraction"] = rate / ceiling  # recomputed only where version 1 had it right
    return out


def upgrade_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """A version 1 document in version 2 shape (a new object; ``doc`` is not changed)."""
    doc = copy.deepcopy(doc)
    out = _keep(doc, Document)
    out["schema"] = SCHEMA_ID
    out["system"] = _system(doc.get("system"))
    if isinstance(doc.get("submitter"), dict):
        out["submitter"] = _keep(doc["submitter"], Submitter) or None
    if isinstance(doc.get("settings"), dict):
        out["settings"] = _keep(doc["settings"], Settings)
    if isinstance(doc.get("fleet"), dict):
        fleet = _keep(doc["fleet"], Fleet)
        if isinstance(fleet.get("nodes"), dict):
            fleet["nodes"] = {k: {**v, "system": _system(v.get("system"))} if isinstance(v, dict) else v
                              for k, v in fleet["nodes"].items()}
        out["fleet"] = fleet
    if isinstance(doc.get("runs"), list):
        out["runs"] = [_run(r, doc.get("source") == "declared") for r in doc["runs"]]
    return {k: v for k, v in out.items() if v is not None}
