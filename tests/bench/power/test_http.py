"""The meters' HTTP client against real servers on 127.0.0.1: byte limit, per-read timeout, total deadline,
secrets kept out of messages and away from other hosts. No mock of the transport."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench.errors import MeterReadError
from bench.power.http import HttpClient, HttpError

TOKEN = "Bearer s3cret-token"
MIB = 1 << 20


class Server(ThreadingHTTPServer):
    """Answers every GET with ``self.answer(handler)``; records the headers each request came with."""

    daemon_threads = True

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.seen.append(dict(self.headers))
                try:
                    answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client cut the answer: what the test wants

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[dict[str, str]] = []
        self.done = threading.Event()  # ends endless answers at teardown
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    def url(self, path: str = "/x", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server_address[1]}{path}"


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], Server]]:
    servers: list[Server] = []

    def start(answer: Callable[[BaseHTTPRequestHandler], None]) -> Server:
        servers.append(Server(answer))
        return servers[-1]

    yield start
    for s in servers:
        s.done.set()
        s.shutdown()
        s.server_close()


def head(h: BaseHTTPRequestHandler, status: int = 200, length: int | None = None, **headers: str) -> None:
    h.send_response(status)
    if length is not None:
        h.send_header("Content-Length", str(length))
    for k, v in headers.items():
        h.send_header(k.replace("_", "-"), v)
    h.end_headers()


def client(**kw: Any) -> HttpClient:
    return HttpClient(**{"timeout_s": 5.0, "deadline_s": 30.0, "max_bytes": MIB,
                         "secret_headers": {"Authorization": TOKEN}, **kw})


def failure(c: HttpClient, url: str) -> HttpError:
    with pytest.raises(HttpError) as info:
        c.get(url)
    message = str(info.value)
    assert isinstance(info.value, MeterReadError) and "\n" not in message and "s3cret" not in message
    return info.value


def test_a_complete_answer(serve: Callable[..., Server]) -> None:
    def answer(h: BaseHTTPRequestHandler) -> None:
        head(h, length=5, Content_Type="text/plain")
        h.wfile.write(b"hello")

    s = serve(answer)
    got = client(headers={"Accept": "text/plain"}).get(s.url("/metrics?x=1"))
    assert (got.status, got.body, got.headers["content-type"]) == (200, b"hello", "text/plain")
    assert s.seen[0]["Authorization"] == TOKEN and s.seen[0]["Accept"] == "text/plain"


def test_an_endless_body_is_cut_at_the_byte_limit(serve: Callable[..., Server]) -> None:
    def answer(h: BaseHTTPRequestHandler) -> None:
        head(h)  # no length: the body ends when the connection does, which it never does
        while not h.server.done.is_set():  # type: ignore[attr-defined]
            h.wfile.write(b"x" * 65536)

    s = serve(answer)
    error = failure(client(), s.url())
    assert f"the answer is larger than the {MIB} bytes accepted (cut)" in str(error)


def test_an_oversized_answer_is_refused_before_reading(serve: Callable[..., Server]) -> None:
    def answer(h: BaseHTTPRequestHandler) -> None:
        head(h, length=10 * MIB)
        h.server.done.wait(60)  # type: ignore[attr-defined] - it never sends: the client must not wait for it

    s = serve(answer)
    assert f"declares {10 * MIB} bytes, more than the {MIB} accepted" in str(failure(client(), s.url()))


def test_a_trickled_body_is_cut_at_the_deadline(serve: Callable[..., Server]) -> None:
    def answer(h: BaseHTTPRequestHandler) -> None:
        head(h)
        while not h.server.done.wait(0.005):  # type: ignore[attr-defined] - a byte now and then: no read times out
            h.wfile.write(b"7")
            h.wfile.flush()

    s = serve(answer)
    error = failure(client(timeout_s=5.0, deadline_s=0.3), s.url())
    assert "the answer did not end (trickled or endless body): cut within 0.3 s" in str(error)


def test_trickled_headers_are_cut_at_the_deadline_too(serve: Callable[..., Server]) -> None:
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.0 200 OK\r\n")
        while not h.server.done.wait(0.005):  # type: ignore[attr-defined]
            h.wfile.write(b"X-Slow: 1\r\n")
            h.wfile.flush()

    s = serve(answer)
    assert "no answer within 0.3 s" in str(failure(client(timeout_s=5.0, deadline_s=0.3), s.url()))


def test_a_server_that_never_answers_is_a_per_read_timeout(serve: Callable[..., Server]) -> None:
    s = serve(lambda h: h.server.done.wait(60))  # type: ignore[attr-defined]
    assert "no answer within 0.2 s" in str(failure(client(timeout_s=0.2, deadline_s=30.0), s.url()))


def test_an_answer_cut_short_is_a_failed_read(serve: Callable[..., Server]) -> None:
    def answer(h: BaseHTTPRequestHandler) -> None:
        head(h, length=100)
        h.wfile.write(b"0123456789")
        h.close_connection = True

    s = serve(answer)
    assert "the answer was cut short (10 of 100 bytes)" in str(failure(client(), s.url()))


def test_http_errors_carry_their_status_and_never_the_credentials(
    serve: Callable[..., Server], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    s = serve(lambda h: head(h, 401, length=0))
    c = client()
    error = failure(c, s.url())
    assert error.status == 401 and str(error) == f"{s.url()}: HTTP 401"
    assert "s3cret" not in repr(c) and "'Authorization': '***'" in repr(c)
    captured = capsys.readouterr()
    assert "s3cret" not in caplog.text + captured.out + captured.err


def test_redirects_are_followed_but_credentials_stay_with_the_first_host(serve: Callable[..., Server]) -> None:
    def final(h: BaseHTTPRequestHandler) -> None:
        head(h, length=2)
        h.wfile.write(b"ok")

    other = serve(final)

    def answer(h: BaseHTTPRequestHandler) -> None:
        if h.path == "/final":
            final(h)
        else:  # /here: on to the same host; /away: on to another host name
            head(h, 302, length=0, Location="/final" if h.path == "/here" else other.url(host="localhost"))

    first = serve(answer)
    assert client().get(first.url("/here")).body == b"ok"
    assert first.seen[-1]["Authorization"] == TOKEN, "a redirect on the same host keeps the credentials"
    assert client().get(first.url("/away")).body == b"ok"
    assert "Authorization" not in other.seen[-1], "another host never sees them"


def test_tls_is_verified_unless_insecure() -> None:
    assert client().context.verify_mode.name == "CERT_REQUIRED" and client().context.check_hostname
    insecure = client(insecure=True)
    assert insecure.context.verify_mode.name == "CERT_NONE" and not insecure.context.check_hostname
