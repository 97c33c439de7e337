"""The journal's line format: a sequence number and a CRC-32 on every line, written in order from any thread."""

from __future__ import annotations

import json
import threading
import zlib
from pathlib import Path

import pytest

from bench.measure.journal import Journal, frame, unframe


def test_a_line_is_its_compact_json_with_n_first_and_the_crc32_of_those_bytes_last() -> None:
    line = frame({"type": "window", "tag": "a@cpu", "index": 0, "units": 5.0, "duration_s": 0.25}, 7)
    body = b'{"n":7,"type":"window","tag":"a@cpu","index":0,"units":5.0,"duration_s":0.25}'
    assert line.encode() == body[:-1] + b',"c":"%08x"}\n' % zlib.crc32(body)
    assert json.loads(line)["c"] == f"{zlib.crc32(body):08x}"  # still one JSON object a line
    assert unframe(line.encode()) == (body, True)


def test_any_flipped_bit_fails_the_checksum_and_a_line_without_one_says_so() -> None:
    raw = frame({"type": "marker", "phase": "x/run/start", "t": 12.5}, 3).encode()
    for at in range(len(raw) - 1):  # every bit of every byte but the newline
        for bit in range(8):
            damaged = raw[:at] + bytes([raw[at] ^ (1 << bit)]) + raw[at + 1:]
            assert unframe(damaged)[1] is not True, (at, bit)
    assert unframe(b'{"type": "marker", "phase": "x", "t": 1.0}\n') == (b'{"type": "marker", "phase": "x", "t": 1.0}', None)
    assert unframe(raw.rstrip(b"\n") + b"\r\n")[1] is True  # an editor's CRLF is not damage


def test_records_may_not_use_the_format_s_own_fields() -> None:
    with pytest.raises(ValueError, match="n or c"):
        frame({"type": "x", "n": 1}, 0)


def test_lines_are_numbered_in_the_order_written_from_several_threads(tmp_path: Path) -> None:
    j = Journal(tmp_path / "r.json.journal.jsonl")

    def writer(k: int) -> None:
        for i in range(300):
            j.write({"type": "reading", "meter": f"m{k}", "t": float(i)}, flush=i % 50 == 0)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    j.sync()
    j.close()
    lines = j.path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 1200
    assert [json.loads(unframe(x)[0])["n"] for x in lines] == list(range(1200))
    assert all(unframe(x)[1] is True for x in lines)
    j.close(remove=True)
