"""Every parameter of the llm-* workloads: a bad value is a UsageError (exit 2), in preflight and setup;
metrics are flat scalars and say which code path produced them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import UsageError
from workloads.transformer.base import LlmWorkload
from workloads.transformer.decode import LlmDecodeWorkload
from workloads.transformer.prefill import LlmPrefillWorkload
from workloads.transformer.serve import LlmServeWorkload

WORKLOADS: list[type[LlmWorkload]] = [LlmDecodeWorkload, LlmPrefillWorkload, LlmServeWorkload]
BAD: list[tuple[str, object, str]] = [
    ("batch", 0, "batch=0 must be >= 1"),
    ("batch", -3, "batch=-3"),
    ("batch", "four", "not an integer"),
    ("batch", True, "not an integer"),
    ("batch", 2.5, "not an integer"),
    ("prompt_len", 0, "prompt_len=0"),
    ("max_new_tokens", 0, "max_new_tokens=0"),
    ("max_new_tokens", -1, "max_new_tokens=-1"),
    ("step_tokens", 0, "step_tokens=0"),
    ("seed", -1, "seed=-1"),
    ("model", "llama-9", "unknown model preset 'llama-9'"),
    ("model", "", "give a model preset or a checkpoint"),
    ("dtype", "fp8", "dtype 'fp8' unknown"),
    ("dtype", "float16", "float16 is not supported on cpu"),
    ("checkpoint", "/no/such/dir", "does not exist"),
    ("compile", "maybe", "compile='maybe' must be true or false"),
    ("prompt_len", 250, "exceeds the model's 256 positions"),
]


def _cases() -> list[tuple[type[LlmWorkload], str, object, str]]:
    return [(cls, key, value, message) for cls in WORKLOADS for key, value, message in BAD
            if key in cls.presets["ci"] or key in ("max_new_tokens", "step_tokens")]


@pytest.mark.parametrize(("cls", "key", "value", "message"), _cases(),
                         ids=[f"{c.name}-{k}={v!r}" for c, k, v, _ in _cases()])
def test_bad_parameter_is_a_usage_error(cls: type[LlmWorkload], key: str, value: object, message: str) -> None:
    w = cls()
    params = {**w.presets["ci"], key: value}
    if key == "prompt_len" and value == 250:
        params["max_new_tokens"] = 16
    for call in (w.preflight, w.setup):
        with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("[", r"\[")):
            call("cpu", params)


def test_missing_parameter_is_a_usage_error() -> None:
    w = LlmPrefillWorkload()
    params = dict(w.presets["ci"])
    del params["batch"]
    with pytest.raises(UsageError, match="'batch' is missing"):
        w.preflight("cpu", params)


def test_bad_parameter_on_the_command_line_is_one_line_exit_2(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main

    code = main(["run", "-w", "llm-serve", "--param", "max_new_tokens=0", "--out", str(tmp_path / "r.json"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "max_new_tokens=0 must be >= 1" in err[0]


@pytest.mark.parametrize("cls", WORKLOADS)
def test_metrics_are_flat_scalars_with_the_code_path(cls: type[LlmWorkload]) -> None:
    w = cls()
    w.setup("cpu", w.params_for("ci", {"batch": "2"}))
    w.verify()
    w.reset_metrics()
    w.step()
    w.step()
    m = w.metrics()
    w.teardown()
    assert m["code_path"] in ("eager", "eager; prefill eager")
    assert all(isinstance(v, (str, int, float, bool)) or v is None for v in m.values()), m
