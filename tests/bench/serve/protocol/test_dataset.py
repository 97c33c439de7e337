"""Random prompts (seeded, calibrated word counts) and JSONL files checked line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.serve.protocol import dataset as ds


def test_random_spec() -> None:
    assert ds.parse_spec("random:in=512,out=64") == ds.RandomSpec(512, 64)
    assert ds.parse_spec("prompts.jsonl") == Path("prompts.jsonl")
    for bad in ("random:in=5", "random:in=0,out=3", "random:in=x,out=3", "random:in=1,out=2,k=3"):
        with pytest.raises(UsageError, match="random:in=N,out=M"):
            ds.parse_spec(bad)


def test_random_prompts_are_reproducible_distinct_and_sized_by_the_calibration() -> None:
    spec = ds.RandomSpec(100, 7)
    a = ds.random_prompts(spec, 5, seed=3, words_for=lambda n: n - 10)
    assert a == ds.random_prompts(spec, 5, seed=3, words_for=lambda n: n - 10)
    assert len({p.prompt for p in a}) == 5
    assert all(len((p.prompt or "").split()) == 90 and p.max_tokens == 7 for p in a)
    assert a != ds.random_prompts(spec, 5, seed=4, words_for=lambda n: n - 10)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_lines(tmp_path: Path) -> None:
    path = write(tmp_path, '{"prompt": "hi", "output_tokens": 5}', "", '{"prompt": "yo"}',
                 '{"messages": [{"role": "user", "content": "x"}], "max_tokens": 9}')
    prompts = ds.load_jsonl(path, chat=True)
    assert [(p.prompt, p.max_tokens) for p in prompts] == [("hi", 5), ("yo", ds.DEFAULT_OUTPUT_TOKENS), (None, 9)]
    assert prompts[2].chat_messages() == [{"role": "user", "content": "x"}]
    assert prompts[0].chat_messages() == [{"role": "user", "content": "hi"}]
    assert len(ds.load_jsonl(path, chat=True, limit=2)) == 2


@pytest.mark.parametrize("line, reason", [
    ("{not json", "line 2: not JSON"),
    ("[1, 2]", "line 2: not a JSON object"),
    ('{"text": "x"}', "line 2: needs exactly one of 'prompt' or 'messages'"),
    ('{"prompt": "x", "messages": []}', "line 2: needs exactly one"),
    ('{"prompt": ""}', "line 2: 'prompt' must be a non-empty string"),
    ('{"prompt": "x", "output_tokens": 0}', "line 2: output_tokens must be a positive integer"),
    ('{"prompt": "x", "output_tokens": true}', "line 2: output_tokens must be a positive integer"),
    ('{"messages": [{"role": "user"}]}', "line 2: 'messages' must be a non-empty list"),
])
def test_bad_lines_name_the_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = write(tmp_path, '{"prompt": "fine"}', line)
    with pytest.raises(UsageError, match=reason) as err:
        ds.load_jsonl(path, chat=True)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_messages_need_the_chat_endpoint_and_files_need_enough_prompts(tmp_path: Path) -> None:
    path = write(tmp_path, '{"messages": [{"role": "user", "content": "x"}]}')
    with pytest.raises(UsageError, match="needs --endpoint chat"):
        ds.load_jsonl(path, chat=False)
    with pytest.raises(UsageError, match="1 prompts, fewer than --num-prompts 3"):
        ds.load_jsonl(path, chat=True, limit=3)
    with pytest.raises(UsageError, match="cannot read it"):
        ds.load_jsonl(tmp_path / "missing.jsonl", chat=True)
    with pytest.raises(UsageError, match="no prompts"):
        ds.load_jsonl(write(tmp_path, ""), chat=True)
