"""Reading a file a user hands in: bounded in size, decoded, split into lines; every problem one UsageError."""

from __future__ import annotations

from pathlib import Path

from bench.errors import UsageError

#: Largest climate file read: an EPW year is about 1.6 MB; a hostile 10 GB file is refused before reading.
MAX_BYTES = 32 * 1024 * 1024


def read_lines(path: str | Path) -> list[str]:
    """The file's lines (any line ending), refusing a missing, unreadable, binary or oversized file."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise UsageError(f"{p}: {size:,} bytes, more than a climate file's limit of {MAX_BYTES:,}")
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{p}: is a directory, not a climate file") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise UsageError(f"{p}: binary data, not a text climate file")
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    return text.splitlines()
