"""Every shell example in docs/ runs, page by page, as the page shows it.

The conventions (docs/about-docs.md says the same to writers):

- a ```sh block runs with ``bash -e -o pipefail`` in a temporary directory shared by the page's
  blocks, in order (one example's output is the next one's input), with a temporary ``HOME`` and
  the test's virtual environment first on ``PATH`` (the docs say to activate it);
- a block whose fence title starts with ``needs`` or ``takes`` (```sh title="needs an NVIDIA GPU",
  ```sh title="takes about 11 minutes per workload") is not run: the title, shown above the code,
  says what it needs;
- a block of any language whose title is a relative file name (```toml title="pilot.toml") is
  written to that file when the page reaches it;
- a command ending in ``# exit N`` (or ``# exit N: why``) must exit with status N;
- the serving guide's examples run against the fake OpenAI-compatible server on 127.0.0.1:8000,
  the miners guide's against the miner simulator (127.2.0.1-3) and snmpsim on 127.0.0.1:1161, as
  the pages say; the fixtures below start them, finding the simulators by their class names so a
  module that moves needs no edit here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BIN = Path(sys.executable).parent
SHELLS = ("sh", "bash", "shell")
NOT_RUN = ("needs ", "takes ")  # the marker: a fence title saying what the block needs that a test machine lacks
BLOCK_TIMEOUT_S = 300

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
TITLE = re.compile(r'title="([^"]*)"')
FILE_NAME = re.compile(r"^(?!/)(?!.*\.\.)[\w.+-]+(/[\w.+-]+)*\.\w+$")
EXPECT_EXIT = re.compile(r"\s#\s*exit (\d+)(:.*)?$")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    title: str
    body: str

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"

    @property
    def kind(self) -> str:
        if self.title.startswith(NOT_RUN):
            return "needs"
        if FILE_NAME.match(self.title):
            return "file"
        return "run" if self.lang in SHELLS else "show"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of one page, in order."""
    text = page.read_text()
    found = []
    for m in FENCE.finditer(text):
        indent = len(m.group("indent"))
        body = "\n".join(line[indent:] for line in m.group("body").splitlines())
        info = m.group("info").strip()
        title = TITLE.search(info)
        found.append(Block(page.relative_to(DOCS).as_posix(), text.count("\n", 0, m.start()) + 1,
                           (info.split() or [""])[0].strip("{}."), title.group(1) if title else "", body))
    return found


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)


def runnable_pages() -> list[str]:
    return [p.relative_to(DOCS).as_posix() for p in pages() if any(b.kind == "run" for b in blocks(p))]


def script(body: str) -> str:
    """The block as a bash script: continuation lines joined, ``# exit N`` lines checked."""
    logical: list[str] = []
    for line in body.splitlines():
        if logical and logical[-1].endswith("\\"):
            logical[-1] = logical[-1][:-1] + " " + line.strip()
        else:
            logical.append(line)
    out = ["set -eo pipefail"]
    for line in logical:
        m = EXPECT_EXIT.search(line)
        if m and not line.lstrip().startswith("#"):
            command, want = line[: m.start()].rstrip(), m.group(1)
            out.append(f"if {command}; then rc=0; else rc=$?; fi; "
                       f'[ "$rc" -eq {want} ] || {{ echo "expected exit {want}, got $rc: {command}" >&2; exit 1; }}')
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def run_block(block: Block, cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.Popen(["bash", "-c", script(block.body)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{block.where}: still running after {BLOCK_TIMEOUT_S} s\n{block.body}\n--- output ---\n{out[-4000:]}")
    finally:
        try:  # background jobs the block started and left behind
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc.returncode != 0:
        pytest.fail(f"{block.where}: exit {proc.returncode}\n{block.body}\n--- output ---\n{out[-6000:]}")


# --- services some pages run against -------------------------------------------------------------


def module_defining(class_name: str) -> str:
    """The dotted name of the module under bench/ that defines ``class_name`` (wherever it lives now)."""
    found = [p for p in sorted((ROOT / "bench").rglob("*.py")) if re.search(rf"^class {class_name}\b", p.read_text(), re.M)]
    assert found, f"no module under bench/ defines {class_name}"
    return ".".join(found[0].relative_to(ROOT).with_suffix("").parts)


@contextmanager
def process(argv: list[str], ready: str, env: dict[str, str] | None = None, timeout_s: float = 60) -> Iterator[None]:
    """Run ``argv`` until the block ends; wait for a line containing ``ready`` first."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    lines: list[str] = []
    seen = threading.Event()

    def watch() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if ready in line:
                seen.set()
        seen.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not seen.wait(timeout_s) or proc.poll() is not None:
            raise RuntimeError(f"{' '.join(argv)} did not start:\n{''.join(lines[-20:])}")
        yield
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def fake_server(tmp: Path) -> Iterator[None]:
    """The fake OpenAI-compatible server on 127.0.0.1:8000, 2 ms between tokens."""
    with process([sys.executable, "-m", module_defining("FakeServer"), "--port", "8000", "--itl", "0.002"], "8000"):
        yield


@contextmanager
def miners_and_pdu(tmp: Path) -> Iterator[None]:
    """Three simulated miners on 127.2.0.1-3 (the last with 20 chips missing) and the miners' PDU in snmpsim."""
    data = tmp / ".snmpsim"
    data.mkdir()
    (walk,) = sorted((ROOT / "tests").rglob("miners-pdu.snmprec"))
    shutil.copy(walk, data / walk.name)
    sim = [sys.executable, "-m", module_defining("SimFleet"), "--first", "127.2.0.1", "--count", "3",
           "--family", "antminer,whatsminer,braiins", "--missing-chips", "20"]
    agent = [sys.executable, "-c", "import sys; from snmpsim.commands.responder import main; sys.exit(main())",
             f"--data-dir={data}", f"--cache-dir={tmp / '.snmpsim-cache'}", "--agent-udpv4-endpoint=127.0.0.1:1161"]
    with ExitStack() as stack:
        stack.enter_context(process(sim, "serving"))
        stack.enter_context(process(agent, "Listening at", env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}))
        yield


SERVICES: dict[str, Callable[[Path], AbstractContextManager[None]]] = {
    "guides/serving.md": fake_server,
    "guides/miners.md": miners_and_pdu,
}


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", runnable_pages())
def test_page_examples_run(page: str, tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(home),
           "COLUMNS": "120", "VIRTUAL_ENV": str(BIN.parent)}
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    with ExitStack() as stack:
        if page in SERVICES:
            stack.enter_context(SERVICES[page](tmp_path))
        for block in blocks(DOCS / page):
            if block.kind == "file":
                target = work / block.title
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.body + "\n")
            elif block.kind == "run":
                run_block(block, work, env)
    print(f"{page}: {time.monotonic() - started:.1f} s")


def test_every_shell_block_runs_or_says_what_it_needs() -> None:
    """A shell block is either run or titled "needs ..."/"takes ..." with what it needs; nothing is skipped silently."""
    for page in pages():
        for block in blocks(page):
            if block.lang in SHELLS:
                assert block.kind in ("run", "needs", "file"), f"{block.where}: {block.kind}"
                if block.kind == "needs":
                    assert len(block.title) > len("needs ") + 3, f"{block.where}: say what it needs"
            if block.title and block.kind == "show":
                assert not block.title.lower().startswith(("need", "take")), f"{block.where}: 'needs ...' or 'takes ...'"


def test_the_guides_have_runnable_examples() -> None:
    assert {"guides/measure.md", "guides/serving.md", "guides/miners.md", "guides/fleets.md", "guides/sizing.md",
            "guides/vendor.md", "guides/ci-gate.md"} <= set(runnable_pages())


def test_script_checks_expected_exit_codes() -> None:
    text = script("false   # exit 1\ntrue \\\n  # exit 0\necho ok # exit 1 on a regression")
    assert 'if false; then rc=0; else rc=$?; fi; [ "$rc" -eq 1 ]' in text
    assert "echo ok # exit 1 on a regression" in text  # a comment that is not exactly "exit N" is left alone
    assert subprocess.run(["bash", "-c", script("false   # exit 1\nexit 0")]).returncode == 0
    assert subprocess.run(["bash", "-c", script("true   # exit 1")], capture_output=True).returncode == 1
