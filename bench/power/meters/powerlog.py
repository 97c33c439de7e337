"""Reading wall-meter and PDU power logs: a CSV with a header, or a SPEC PTDaemon log.

CSV: the first line is a header naming a timestamp column and a power column
(names compared case-insensitively, with spaces and punctuation as ``_``, so
``Power (W)`` is ``power_w``):

- timestamp: ``timestamp``, ``time``, ``datetime``, ``date_time``, ``ts``,
  ``epoch``, ``unix_time``, ``time_s``; values are epoch seconds (milliseconds
  when above 1e11) or ISO 8601 (``2026-11-25T13:45:01.250Z``);
- power in W: ``watts``, ``w``, ``power``, ``power_w``, ``power_watts``,
  ``active_power``, ``active_power_w``, ``real_power``; in kW: ``kw``,
  ``power_kw``, ``active_power_kw``.

PTDaemon: record lines ``Time,MM-DD-YYYY HH:MM:SS.fff,Watts,W,Volts,V,...``;
its NOTICE/ERROR lines and other text are skipped, and so are its invalid
readings (negative watts, written as -1).

Timestamps without a time zone (all of PTDaemon's) are local time of this
machine. The log may grow while it is read: :meth:`PowerLog.update` parses only
the complete lines appended since the last call.
"""

from __future__ import annotations

import csv
import datetime
import math
import re
from pathlib import Path

TIME_COLUMNS = ("timestamp", "time", "datetime", "date_time", "ts", "epoch", "unix_time", "time_s")
WATT_COLUMNS = {
    **dict.fromkeys(("watts", "w", "power", "power_w", "power_watts", "active_power", "active_power_w",
                     "real_power"), 1.0),
    **dict.fromkeys(("kw", "power_kw", "active_power_kw"), 1000.0),
}
PTD_TIME_FORMAT = "%m-%d-%Y %H:%M:%S.%f"
_EPOCH_MS_ABOVE = 1e11


class LogError(ValueError):
    """A log that cannot be read; the message names the file and line."""


def _column(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def parse_time(text: str) -> float:
    """Epoch seconds from epoch seconds/milliseconds or ISO 8601 (naive = local time).

    Raises:
        ValueError: neither.
    """
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        return datetime.datetime.fromisoformat(text).timestamp()
    if not math.isfinite(value):
        raise ValueError(text)
    return value / 1000.0 if value > _EPOCH_MS_ABOVE else value


class PowerLog:
    """The (epoch seconds, watts) rows of one log file, read incrementally."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[tuple[float, float]] = []
        self.format: str | None = None  # "csv" or "ptdaemon" once the first line is read
        self._pos = 0
        self._line = 0
        self._time_col = self._watt_col = 0
        self._scale = 1.0

    def update(self) -> int:
        """Parse the complete lines appended since the last call; returns how many rows were added.

        Raises:
            LogError: unreadable file, no header, bad number or time, timestamps going backwards.
        """
        try:
            with self.path.open("rb") as f:
                f.seek(self._pos)
                chunk = f.read()
        except OSError as exc:
            raise LogError(f"{self.path}: {exc.strerror or exc}") from None
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line the logger is still writing waits
        self._pos += len(complete)
        before = len(self.rows)
        for raw in complete.splitlines():
            self._line += 1
            try:
                line = raw.decode("utf-8-sig" if self._line == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                raise LogError(f"{self.path}:{self._line}: not text") from None
            if line:
                self._parse(line)
        return len(self.rows) - before

    def _fail(self, message: str) -> LogError:
        return LogError(f"{self.path}:{self._line}: {message}")

    def _parse(self, line: str) -> None:
        if self.format is None:
            self._header(line)
        elif self.format == "ptdaemon":
            self._ptdaemon(line)
        else:
            self._csv(line)

    def _header(self, line: str) -> None:
        if line.startswith("Time,"):
            self.format = "ptdaemon"
            self._ptdaemon(line)
            return
        raw = next(csv.reader([line]))
        names = [_column(n) for n in raw]
        time_col = next((i for i, n in enumerate(names) if n in TIME_COLUMNS), None)
        watt_col = next((i for i, n in enumerate(names) if n in WATT_COLUMNS), None)
        if time_col is None or watt_col is None:
            if any(_is_number(r) for r in raw):
                raise self._fail("no header line (expected e.g. 'timestamp,watts' first, or a SPEC PTDaemon log)")
            missing = "timestamp" if time_col is None else "power"
            accepted = TIME_COLUMNS if time_col is None else tuple(WATT_COLUMNS)
            raise self._fail(f"header has no {missing} column (accepted: {', '.join(accepted)})")
        self.format = "csv"
        self._time_col, self._watt_col, self._scale = time_col, watt_col, WATT_COLUMNS[names[watt_col]]

    def _csv(self, line: str) -> None:
        fields = next(csv.reader([line]))
        if len(fields) <= max(self._time_col, self._watt_col):
            raise self._fail(f"{len(fields)} fields, the header has more")
        try:
            t = parse_time(fields[self._time_col])
        except ValueError:
            raise self._fail(f"bad timestamp {fields[self._time_col].strip()!r} (epoch seconds or ISO 8601)") from None
        self._add(t, self._watts(fields[self._watt_col]) * self._scale)

    def _ptdaemon(self, line: str) -> None:
        fields = line.split(",")
        if fields[0] != "Time" or len(fields) < 4 or fields[2] != "Watts":
            return  # NOTICE / ERROR / buffer dumps
        try:
            t = datetime.datetime.strptime(fields[1].strip(), PTD_TIME_FORMAT).timestamp()
        except ValueError:
            raise self._fail(f"bad PTDaemon time {fields[1]!r} (expected MM-DD-YYYY HH:MM:SS.fff)") from None
        watts = self._watts(fields[3], allow_negative=True)
        if watts >= 0:  # PTDaemon writes -1 for a reading the analyser could not give
            self._add(t, watts)

    def _watts(self, text: str, allow_negative: bool = False) -> float:
        try:
            value = float(text)
        except ValueError:
            raise self._fail(f"bad power value {text.strip()!r}") from None
        if not math.isfinite(value) or (value < 0 and not allow_negative):
            raise self._fail(f"bad power value {text.strip()!r}")
        return value

    def _add(self, t: float, watts: float) -> None:
        if self.rows and t <= self.rows[-1][0]:
            if t == self.rows[-1][0]:
                return  # a repeated line (PTDaemon repeats the last record when polled twice)
            raise self._fail(f"timestamps go backwards ({t:.3f} after {self.rows[-1][0]:.3f} epoch s)")
        self.rows.append((t, watts))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
