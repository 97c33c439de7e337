"""The file boundary a journal crosses: byte limits, nesting, strict JSON, checksums, typed lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.measure.journal import frame
from bench.measure.journalfile import Limits, Window, loads, read_file, too_deep


def _write(path: Path, *lines: bytes) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def _marker(n: int, t: float = 1.0) -> bytes:
    return frame({"type": "marker", "phase": "a@cpu/run/start", "t": t}, n).encode()


@pytest.mark.parametrize("text, deep", [
    ("[]", False), ('{"a": [[1]]}', False), ("[" * 32 + "]" * 32, False), ("[" * 33 + "]" * 33, True),
    ('["' + "[" * 100 + '"]', False),  # brackets inside a string do not nest
    ("[" * 100_000, True), ("[}" * 50, False),  # unbalanced: the parser refuses it
])
def test_nesting_is_measured_without_recursion(text: str, deep: bool) -> None:
    assert too_deep(text, 32) is deep


@pytest.mark.parametrize("body, why", [
    (b'{"t": NaN}', "NaN"), (b'{"t": Infinity}', "Infinity"), (b'{"t": 1e999}', "beyond a float"),
    (b'{"t": ' + b"9" * 5000 + b"}", "5000 digits"), (b'{"t": 1, "t": 2}', "appears twice"),
    (b'{"t": "\xff"}', "not UTF-8"), (b"[" * 50 + b"]" * 50, "nested deeper"), (b'{"t": ', "not valid JSON"),
])
def test_strict_json_refuses_what_a_journal_never_holds(body: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        loads(body)


def test_typed_lines_refuse_zero_durations_missing_times_and_nan(tmp_path: Path) -> None:
    good = frame({"type": "window", "tag": "a@cpu", "index": 0, "units": 10.0, "duration_s": 0.5}, 1).encode()
    zero = frame({"type": "window", "tag": "a@cpu", "index": 1, "units": 10.0, "duration_s": 0.0}, 2).encode()
    no_t = frame({"type": "reading", "meter": "m", "power_w": 5.0}, 3).encode()
    nan = frame({"type": "reading", "meter": "m", "t": 2.0, "power_w": float("nan")}, 4).encode()  # written as null
    huge = frame({"type": "reading", "meter": "m", "t": 2.0, "power_w": 1e300}, 5).encode()
    read = read_file(_write(tmp_path / "j", _marker(0), good, zero, no_t, nan, huge))
    assert [x.kind for x in read.lines] == ["marker", "window", "reading"]
    assert read.lines[1].value == Window("a@cpu", 0, 10.0, 0.5)
    assert read.lines[2].value.reading.power_w is None
    assert [(d.no, d.kind) for d in read.damage] == [(3, "window"), (4, "reading"), (6, "reading")]
    assert "duration_s" in read.damage[0].reason and "$.t" in read.damage[1].reason
    assert read.checked and all(d.lost and not d.cut for d in read.damage)


def test_a_line_over_the_limit_is_skipped_and_the_rest_goes_on(tmp_path: Path) -> None:
    giant = b'{"n":1,"type":"marker","phase":"' + b"x" * 5_000_000 + b'","t":1.0}\n'
    read = read_file(_write(tmp_path / "j", _marker(0), giant, _marker(2, 2.0)), Limits(line_bytes=1_000_000))
    assert [x.n for x in read.lines] == [0, 2]
    (d,) = read.damage
    assert d.no == 2 and d.nbytes == len(giant) and "over the 1000000 byte line limit" in d.reason


def test_reading_stops_at_the_journal_limit_and_says_how_much_was_not_read(tmp_path: Path) -> None:
    lines = [_marker(n, float(n)) for n in range(10)]
    limit = sum(len(x) for x in lines[:4])
    read = read_file(_write(tmp_path / "j", *lines), Limits(journal_bytes=limit))
    assert len(read.lines) == 4
    (d,) = read.damage
    assert d.no == 5 and d.nbytes == sum(len(x) for x in lines[4:]) and "--max-bytes" in d.reason


def test_only_a_last_line_without_its_newline_is_cut_short(tmp_path: Path) -> None:
    half = _marker(2)[:20]
    read = read_file(_write(tmp_path / "j", _marker(0), _marker(1), half))
    (d,) = read.damage
    assert d.cut and not d.lost and d.no == 3 and "cut short" in d.reason
    read = read_file(_write(tmp_path / "k", _marker(0), half + b"\n", _marker(2)))
    (d,) = read.damage
    assert not d.cut and d.lost and d.no == 2


def test_a_line_without_a_checksum_among_checksummed_lines_is_damage(tmp_path: Path) -> None:
    read = read_file(_write(tmp_path / "j", _marker(0), b'{"type": "marker", "phase": "x", "t": 1.0}\n', _marker(2)))
    assert [x.n for x in read.lines] == [0, 2]
    assert read.damage[0].no == 2 and "no checksum" in read.damage[0].reason


def test_a_journal_without_checksums_reads_unchecked(tmp_path: Path) -> None:
    read = read_file(_write(tmp_path / "j", b'{"type": "marker", "phase": "x", "t": 1.0}\n',
                            b'{"type": "marker", "phase": "y", "t": 2.0}\n'))
    assert not read.checked and not read.damage and [x.n for x in read.lines] == [None, None]


def test_a_flipped_byte_is_known_and_named_by_the_type_the_line_had(tmp_path: Path) -> None:
    raw = bytearray(frame({"type": "window", "tag": "a@cpu", "index": 0, "units": 10.0, "duration_s": 0.5}, 1).encode())
    raw[raw.index(b"10.0")] ^= 0x01
    read = read_file(_write(tmp_path / "j", _marker(0), bytes(raw)))
    (d,) = read.damage
    assert d.no == 2 and d.kind == "window" and d.reason.startswith("bad checksum")
