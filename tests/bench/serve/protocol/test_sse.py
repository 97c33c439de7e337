"""The SSE parser: events split anywhere across reads, comments, CRLF, multi-line data, [DONE]."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.serve.protocol.sse import Event, SSEParser

STREAM = (
    ": keep-alive\n\n"
    'data: {"choices": [{"text": "h\u00e9llo \U0001f4a1"}]}\n\n'
    "event: error\ndata: {\"error\": \"x\"}\n\n"
    "id: 7\nretry: 100\n\n"
    "data: line one\ndata:line two\n\n"
    ":ping\n\n"
    "data: [DONE]\n\n"
).encode()

EXPECTED = [
    Event("message", '{"choices": [{"text": "h\u00e9llo \U0001f4a1"}]}'.encode()),
    Event("error", b'{"error": "x"}'),
    Event("message", b"line one\nline two"),
    Event("message", b"[DONE]"),
]


def parse(pieces: list[bytes]) -> tuple[list[Event], SSEParser]:
    parser = SSEParser()
    events = [e for piece in pieces for e in parser.feed(piece)]
    return events, parser


def test_whole_stream() -> None:
    events, parser = parse([STREAM])
    assert events == EXPECTED
    assert parser.comments == 2
    assert parser.close() is None


def test_every_split_point_of_every_line_ending() -> None:
    for nl in (b"\n", b"\r\n", b"\r"):
        stream = STREAM.replace(b"\n", nl)
        for cut in range(len(stream) + 1):
            events, parser = parse([stream[:cut], stream[cut:]])
            assert events == EXPECTED, (nl, cut)
            assert parser.close() is None


def test_an_empty_read_between_cr_and_lf_keeps_them_one_line_ending() -> None:
    stream = STREAM.replace(b"\n", b"\r\n")
    for cut in (i + 1 for i, byte in enumerate(stream) if byte == ord("\r")):
        events, parser = parse([stream[:cut], b"", b"", stream[cut:]])
        assert events == EXPECTED, cut
        assert parser.close() is None


@settings(deadline=None)  # a loaded CI machine can stall one example past the 200 ms default
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12), st.sampled_from([b"\n", b"\r\n"]))
def test_any_number_of_splits(cuts: list[int], nl: bytes) -> None:
    stream = STREAM.replace(b"\n", nl)
    bounds = [0, *sorted(min(c, len(stream)) for c in cuts), len(stream)]
    events, _ = parse([stream[a:b] for a, b in itertools.pairwise(bounds)])
    assert events == EXPECTED
    assert json.loads(events[0].data)["choices"][0]["text"] == "h\u00e9llo \U0001f4a1"


def test_one_byte_at_a_time() -> None:
    events, _ = parse([STREAM[i:i + 1] for i in range(len(STREAM))])
    assert events == EXPECTED


def test_a_stream_cut_inside_an_event_is_left_over_at_close() -> None:
    events, parser = parse([b'data: {"a": 1}\n\ndata: {"b"'])
    assert events == [Event("message", b'{"a": 1}')]
    assert parser.close() == Event("message", b'{"b"')


def test_a_last_event_without_its_blank_line_is_handed_over_at_close() -> None:
    _, parser = parse([b"data: [DONE]\n"])
    assert parser.close() == Event("message", b"[DONE]")
