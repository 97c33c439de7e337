"""What one request did, as the client saw it (plain data: metrics and windows read only this)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field


@dataclass
class RequestRecord:
    """One benchmark request.

    Times are ``time.monotonic()`` seconds. A token event is a streamed chunk that carried
    generated output; one event may hold several tokens (byte-level tokenizers merge them), so
    token counts come from the server's ``usage`` (``token_source == "usage"``) or a local
    tokenizer (``"tokenizer"``), never from the number of events.

    Attributes:
        index: position in the dataset.
        arrival: when the load generator released it (before any wait for a concurrency slot).
        dispatched: when it was sent (after the slot was granted); TTFT and latency count from here.
        token_times: arrival time of every token event (one timestamp per network read: events
            that arrived in the same read share it).
        end: when the response ended, successfully or not (the request leaves the server here).
        ok: the stream finished properly ([DONE] or a finish_reason) with at least one token.
        error: why it failed ("" when ok); ``failure`` is its class (``HTTP 429``, ``stream cut``...).
        input_tokens, output_tokens: the server's usage or the local tokenizer's count (None: unknown).
    """

    index: int
    arrival: float = 0.0
    dispatched: float = 0.0
    token_times: list[float] = field(default_factory=list)
    end: float | None = None
    ok: bool = False
    error: str = ""
    failure: str = ""
    status: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    token_source: str | None = None
    text: str = ""
    finish_reason: str | None = None

    @property
    def first_token(self) -> float | None:
        """Arrival time of the first token event (None when none came)."""
        return self.token_times[0] if self.token_times else None

    @property
    def ttft(self) -> float | None:
        """Time to first token in s."""
        return self.token_times[0] - self.dispatched if self.token_times else None

    @property
    def latency(self) -> float | None:
        """End-to-end latency in s: from sending to the last token event (vLLM's definition)."""
        return self.token_times[-1] - self.dispatched if self.token_times else None

    @property
    def itls(self) -> list[float]:
        """Inter-token latencies in s: the gaps between successive token events."""
        t = self.token_times
        return [b - a for a, b in itertools.pairwise(t)]

    @property
    def tpot(self) -> float | None:
        """(latency - TTFT) / (output tokens - 1) in s; None with fewer than 2 output tokens."""
        if not self.token_times or self.output_tokens is None or self.output_tokens < 2:
            return None
        return (self.token_times[-1] - self.token_times[0]) / (self.output_tokens - 1)

    def fail(self, failure: str, error: str, t: float) -> None:
        """Mark it failed at ``t`` with its class and message."""
        self.ok, self.failure, self.error, self.end = False, failure, error, t
