"""The miner web exchange's bounds: a silent server, a body over the limit, a challenge it cannot answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from bench.miners.protocol.knobs.digest_http import WebError, exchange

Serve = Callable[[bytes | None], str]


@pytest.fixture
def raw_server() -> Iterator[Serve]:
    """``serve(answer)``: a TCP server on 127.0.26.252 that reads a request, then sends ``answer`` (None: stays
    silent until the client hangs up); returns its URL."""
    sockets: list[socket.socket] = []
    done = threading.Event()

    def serve(answer: bytes | None) -> str:
        listener = socket.create_server(("127.0.26.252", 0))
        sockets.append(listener)

        def run() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                if answer is not None:
                    conn.sendall(answer)
                else:
                    done.wait(10)

        threading.Thread(target=run, daemon=True).start()
        return f"http://127.0.26.252:{listener.getsockname()[1]}/cgi-bin/get_miner_conf.cgi"

    yield serve
    done.set()
    for s in sockets:
        s.close()


def test_a_silent_server_costs_the_timeout(raw_server: Serve) -> None:
    with pytest.raises(WebError, match="no (complete )?answer within 0.3 s"):
        exchange(raw_server(None), account="root", password="pw", timeout_s=0.3)


def test_a_body_over_the_limit_is_cut(raw_server: Serve) -> None:
    url = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
    with pytest.raises(WebError, match="declares 5000 bytes, more than the 1000 accepted"):
        exchange(url, account="root", password="pw", timeout_s=2, max_bytes=1000)


def test_a_challenge_that_is_not_digest(raw_server: Serve) -> None:
    url = raw_server(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n')
    with pytest.raises(WebError, match="HTTP 401 without a digest challenge"):
        exchange(url, account="root", password="pw", timeout_s=2)
