"""A server's token count against what it streamed: the bound a count cannot forge.

A server says how many tokens it generated (``usage.completion_tokens``; an imported vLLM result's
``output_lens``, a guidellm request's ``output_tokens``). What it streamed is known independently:
its token events (chunks that carried generated output, timed by the client). Each token event
carries at least one token, and batching puts several in one: a byte-level BPE token inside a
UTF-8 character is held back until the character is whole, speculative decoding streams the
accepted tokens together, some engines stream every N tokens (``--stream-interval``). So a count
is believed when

    events - slack  <=  tokens  <=  per_event x carriers  (and tokens <= the output cap asked)

where ``carriers`` are the chunks that may hold tokens (the token events, and a closing chunk
that carries the finish after text held back), ``per_event`` is :data:`MAX_TOKENS_PER_EVENT`
(``--max-tokens-per-event`` for an engine set to stream in bigger batches), and ``slack`` the
chunks a client counts that carry no token (an import's role and closing chunks, :data:`IMPORT_SLACK`).
Counts below the events, above the bound or above the cap are refused. What the bound cannot
tell: a server that stops early and claims up to ``per_event`` tokens a chunk, within the cap, is
believed (only the model's tokenizer could count its text); one that streams its whole cap a token
a chunk and claims more (2x, 10^12 x) is refused by the cap.
"""

from __future__ import annotations

#: Most tokens one streamed chunk is believed to carry (``--max-tokens-per-event``): a UTF-8
#: character is at most 4 byte-level tokens, speculative decoding accepts at most some 8 tokens a step.
MAX_TOKENS_PER_EVENT = 16
#: Chunks an imported file's client counted that carry no token: the chat role chunk and a closing chunk.
IMPORT_SLACK = 2
#: The largest token count believed of one request (far above any model's context).
MAX_REQUEST_TOKENS = 100_000_000


def disagreement(tokens: int, events: int, *, carriers: int | None = None, cap: int | None = None,
                 per_event: int = MAX_TOKENS_PER_EVENT, slack: int = 0, what: str = "usage") -> str | None:
    """Why ``tokens`` cannot be what a stream of ``events`` token events carried, or None when it can.

    Args:
        carriers: chunks that may hold tokens (default ``events``).
        cap: the most tokens the request asked for (None: unknown).
        per_event: the most tokens one chunk is believed to carry.
        slack: events that may carry no token.
        what: names the count in the reason (``usage``, ``output_lens[3]``).
    """
    held = events if carriers is None else carriers
    if tokens < 0 or tokens > MAX_REQUEST_TOKENS:
        return f"{what} says {tokens} tokens: not a count of one request's tokens (0 to {MAX_REQUEST_TOKENS})"
    if tokens < events - slack:
        return f"{what} says {tokens} tokens, fewer than the {events} token events streamed"
    if cap is not None and tokens > cap:
        return f"{what} says {tokens} tokens, more than the {cap} the request asked for"
    if tokens > per_event * held:
        return (f"{what} says {tokens} tokens over {held} streamed chunk(s): more than {per_event} tokens a chunk "
                "(--max-tokens-per-event)")
    return None
