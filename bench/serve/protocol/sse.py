"""An incremental Server-Sent Events parser for streamed completions.

Follows the WHATWG event-stream rules that matter for OpenAI-compatible servers: lines end in
``\\n``, ``\\r\\n`` or ``\\r`` (a ``\\r`` at the end of one read may pair with a ``\\n`` at the start
of the next); a line starting with ``:`` is a comment (keep-alive pings); ``data:`` lines of one
event are joined with ``\\n``; a blank line dispatches the event; ``event:``, ``id:`` and
``retry:`` are read or skipped; an event without data is not dispatched. Bytes are split across
reads anywhere, even inside a UTF-8 character: the parser works on bytes and only complete
events leave it.

A line longer than ``max_bytes``, or an event whose data lines add up to more, is refused
(:class:`~bench.serve.protocol.boundary.Refused`, class ``event too large``) as soon as the buffered part
passes the limit: a ``data:`` line that never ends is never held whole.
"""

from __future__ import annotations

from typing import NamedTuple

from bench.serve.protocol.boundary import DEFAULT_MAX_EVENT_BYTES, Refused

#: The failure class of a line or event over the limit.
TOO_LARGE = "event too large"


class Event(NamedTuple):
    """One dispatched event: its ``event:`` name (``"message"`` by default) and its data bytes."""

    name: str
    data: bytes


class SSEParser:
    """Feed it the body as it arrives; it returns the events completed by each read.

    Args:
        max_bytes: the longest line, and the most data of one event.

    Attributes:
        comments: how many comment lines (``:`` keep-alives) were seen.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._buf = b""
        self._data: list[bytes] = []
        self._size = 0  # bytes of data in self._data
        self._name = "message"
        self._cr = False  # the last read ended in "\r": a "\n" starting the next one belongs to it
        self.comments = 0

    def _too_large(self, what: str) -> Refused:
        return Refused(TOO_LARGE, f"{what} of the stream is longer than the {self.max_bytes} bytes accepted "
                                  "(--max-event-bytes)")

    def feed(self, chunk: bytes) -> list[Event]:
        """The events that ``chunk`` completes, in order.

        Raises:
            Refused: a line or an event longer than ``max_bytes``.
        """
        if not chunk:  # an empty read completes nothing and must not forget a pending "\r"
            return []
        if self._cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._cr = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buf = self._buf + chunk if self._buf else chunk
        if b"\n" not in buf:
            if len(buf) > self.max_bytes:
                raise self._too_large("a line")
            self._buf = buf
            return []
        lines = buf.split(b"\n")
        self._buf = lines.pop()
        if len(self._buf) > self.max_bytes:
            raise self._too_large("a line")
        events: list[Event] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(Event(self._name, b"\n".join(self._data)))
                    self._data, self._size = [], 0
                self._name = "message"
            elif line.startswith(b"data:"):
                value = line[5:]
                self._size += len(value)
                if self._size > self.max_bytes:
                    raise self._too_large("an event" if len(value) <= self.max_bytes else "a line")
                self._data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b":"):
                self.comments += 1
            elif len(line) > self.max_bytes:
                raise self._too_large("a line")
            elif line.startswith(b"event:"):
                self._name = line[6:].strip().decode("utf-8", "replace") or "message"
        return events

    def close(self) -> Event | None:
        """The event left unterminated when the body ended (None when the body ended cleanly).

        The standard drops such an event; a caller can still tell a stream cut inside an event
        from one that ended between events, and servers that omit the last blank line exist.
        """
        if self._buf.startswith(b"data:"):
            value = self._buf[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        self._buf = b""
        if not self._data:
            return None
        event = Event(self._name, b"\n".join(self._data))
        self._data, self._size = [], 0
        return event
