"""`sitebench serve` against a real OpenAI-compatible server nobody here wrote: `transformers serve`,
started on 127.0.0.1 with a tiny Llama and a byte-level BPE tokenizer built here (no hub, offline)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main

STARTUP_TIMEOUT_S = 300.0
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "power", "site", "energy", "token", "joule",
         "watt", "grid"]


def _serve_cli() -> list[str]:
    """The `transformers serve` command line, or skip when this transformers cannot serve."""
    pytest.importorskip("transformers")
    from transformers.utils.import_utils import is_serve_available

    if not is_serve_available():
        pytest.skip("transformers serve needs the serving extra: pip install 'transformers[serving]'")
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("no `transformers` command next to this Python")
    return [exe, "serve"]


def build_model(root: Path) -> Path:
    """A 2-layer Llama with random weights and a byte-level BPE tokenizer trained on a few words."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(12)) for i in range(200)]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "</s>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")
    fast.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:")
    path = root / "tiny-llama"
    fast.save_pretrained(path)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=0, eos_token_id=1, tie_word_embeddings=True)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def serving(root: Path, model: Path) -> Iterator[str]:
    """`transformers serve` of ``model`` on a free port of 127.0.0.1 until the generator is closed: its base URL."""
    command = _serve_cli()
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(root / "hf"),
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    log = (root / "server.log").open("w")
    proc = subprocess.Popen([*command, str(model), "--device", "cpu", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:  # wait for readiness: the model list answers
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited ({proc.returncode}): {(root / 'server.log').read_text()[-2000:]}")
            try:
                if get_json(f"{url}/v1/models")["data"]:
                    break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not ready after {STARTUP_TIMEOUT_S:g} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    _serve_cli()
    root = tmp_path_factory.mktemp("transformers-serve")
    model = build_model(root)
    for url in serving(root, model):
        yield url, model


def gpt2_byte_chars() -> dict[int, str]:
    """The byte-level BPE alphabet: each byte's character (GPT-2's bytes_to_unicode)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars, extra = dict(zip(printable, map(chr, printable))), 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


@pytest.fixture(scope="module")
def held_back_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The same tiny Llama made to generate only lead bytes of 3-byte UTF-8 characters (``suppress_tokens``
    in its generation config): every token is part of a character that never completes, so the server holds
    all their text back and every answer is a closing chunk and usage, without any text."""
    _serve_cli()
    from transformers import GenerationConfig, PreTrainedTokenizerFast

    root = tmp_path_factory.mktemp("transformers-serve-held-back")
    model = build_model(root)
    tok = PreTrainedTokenizerFast.from_pretrained(model)
    chars = gpt2_byte_chars()
    leads = {tok.convert_tokens_to_ids(chars[b]) for b in (0xE4, 0xE5, 0xE6)}
    config = GenerationConfig.from_pretrained(model)
    config.suppress_tokens = [i for i in range(len(tok)) if i not in leads]
    config.save_pretrained(model)
    for url in serving(root, model):
        yield url, model


def run_serve(capsys: pytest.CaptureFixture[str], url: str, *args: str, out: str = "r.json") -> dict[str, Any]:
    rc = main(["serve", "--base-url", url, "--dataset", "random:in=24,out=8", "--num-prompts", "8",
               "--max-concurrency", "2", "--json", "--out", out, *args])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return json.loads(captured.out)


def check_result_file(path: str, doc: dict[str, Any], n: int) -> None:
    """The result file written beside the JSON: one valid serve run accounting for every request."""
    from bench.record import load

    assert main(["validate", path]) == 0
    [run] = load(path).runs
    assert (run.workload, run.unit, run.status, run.verified) == ("serve", "token", "ok", True)
    assert run.hardware is not None and run.hardware.model == doc["model_id"][:200]
    mt = run.metrics
    assert mt["completed"] + mt["failed"] == n and mt["total_output_tokens"] == doc["total_output_tokens"]
    assert 0 < sum(run.throughput.units) <= doc["total_output_tokens"] and run.windows


@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_serve_against_transformers_serve(server: tuple[str, Path], endpoint: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    url, model = server
    doc = run_serve(capsys, url, "--endpoint", endpoint, out=f"{endpoint}.json")
    n = 8
    check_result_file(f"{endpoint}.json", doc, n)
    assert doc["completed"] + doc["failed"] == n and doc["failed"] == 0, doc["errors"]
    assert doc["model_id"] == str(model) and doc["sitebench"]["token_source"] == "usage"
    assert doc["total_output_tokens"] == sum(doc["output_lens"]) and all(0 < x <= 8 for x in doc["output_lens"])
    assert all(0 < t <= lat for t, lat in zip(doc["ttfts"], doc["latencies"]))
    # a streamed chunk is not a token: never more token events than tokens
    assert all(len(itl) + 1 <= out for itl, out in zip(doc["itls"], doc["output_lens"]))
    for key in ("mean_ttft_ms", "p50_ttft_ms", "p90_ttft_ms", "p99_ttft_ms", "median_itl_ms", "p99_e2el_ms"):
        assert doc[key] is not None and doc[key] > 0
    assert doc["total_input_tokens"] == sum(doc["input_lens"]) > 0


def test_streamed_counts_equal_the_servers_usage(server: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The same prompts asked without streaming (greedy decoding: the same tokens) report the same usage."""
    url, model = server
    from bench.serve.measure.outcome import ServeSettings, prepare_sync
    from bench.serve.protocol import dataset as ds

    settings = ServeSettings(url, dataset="random:in=24,out=8", num_prompts=8)
    doc = run_serve(capsys, url)
    setup = prepare_sync(settings)
    for prompt, streamed_in, streamed_out in zip(setup.prompts[:3], doc["input_lens"], doc["output_lens"]):
        assert isinstance(prompt, ds.Prompt)
        answer = get_json(f"{url}/v1/completions", {"model": str(model), "prompt": prompt.prompt,
                                                    "max_tokens": prompt.max_tokens})
        assert answer["usage"]["completion_tokens"] == streamed_out
        assert answer["usage"]["prompt_tokens"] == streamed_in


@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_an_answer_whose_tokens_show_no_text_is_measured(held_back_server: tuple[str, Path], endpoint: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Deliver 5 of issue 25 against a real server: usage, not visible text, says tokens came (the probe's 2, the
    load's 8 each); TTFT is measured to the closing chunk, the first chunk carrying the choice."""
    url, _ = held_back_server
    doc = run_serve(capsys, url, "--endpoint", endpoint, out=f"held-{endpoint}.json")
    check_result_file(f"held-{endpoint}.json", doc, 8)
    assert doc["failed"] == 0 and doc["output_lens"] == [8] * 8 and doc["generated_texts"] == [""] * 8, doc["errors"]
    assert all(t > 0 and itl == [] for t, itl in zip(doc["ttfts"], doc["itls"]))
