"""One bounded HTTP exchange with a miner's web interface, under HTTP digest authentication.

Stock Antminer firmware serves its configuration CGIs behind digest authentication (RFC 7616; the
``antMiner Configuration`` realm, MD5, ``qop=auth``). The first request goes without credentials; a ``401``
with a ``Digest`` challenge is answered once, the ``Authorization`` header computed by the standard
library's own digest code (:class:`urllib.request.HTTPDigestAuthHandler`). A second ``401`` means the
account or password is wrong.

Bounds, as every miner exchange has them: a per-read timeout, a total deadline for each request (the
socket is shut when it passes, so a trickled answer is cut), and a byte limit on the body. The password
never appears in a message.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

#: The largest body read (a miner's configuration is a few kB).
MAX_BYTES = 1 << 20
_CHUNK = 65536


class WebError(Exception):
    """A failed exchange; ``status`` is the HTTP status when the server answered one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Answer:
    """A complete answer within the limits."""

    status: int
    headers: dict[str, str]
    body: bytes


def exchange(url: str, *, account: str, password: str, body: bytes | None = None, timeout_s: float,
             max_bytes: int = MAX_BYTES) -> Answer:
    """``GET url`` (``POST`` when there is a body, as JSON), answering a digest challenge once.

    Raises:
        WebError: unreachable, no answer in time, a body over the limit, a status of 400 or more
            (401 after the challenge was answered: wrong credentials).
    """
    headers = {"Content-Type": "application/json"} if body is not None else {}
    first = _once(url, body, headers, timeout_s, max_bytes)
    if first.status != 401:
        return _checked(url, first)
    challenge = first.headers.get("www-authenticate", "")
    scheme, _, params = challenge.partition(" ")
    if scheme.lower() != "digest":
        raise WebError(f"{url}: HTTP 401 without a digest challenge ({challenge[:80]!r})", 401)
    chal = urllib.request.parse_keqv_list([p for p in urllib.request.parse_http_list(params) if p])
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, account, password)
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    authorization = urllib.request.HTTPDigestAuthHandler(manager).get_authorization(request, chal)
    if not authorization:
        raise WebError(f"{url}: a digest challenge the standard library cannot answer "
                       f"(algorithm {str(chal.get('algorithm', 'MD5'))[:20]!r})", 401)
    return _checked(url, _once(url, body, {**headers, "Authorization": f"Digest {authorization}"}, timeout_s,
                               max_bytes))


def _checked(url: str, answer: Answer) -> Answer:
    if answer.status == 401:
        raise WebError(f"{url}: HTTP 401: the account or password was refused", 401)
    if answer.status >= 400:
        raise WebError(f"{url}: HTTP {answer.status}", answer.status)
    return answer


def _once(url: str, body: bytes | None, headers: dict[str, str], timeout_s: float, max_bytes: int) -> Answer:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise WebError(f"{url}: not an http URL")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
    expired = threading.Event()

    def expire() -> None:  # the deadline: cut whatever the exchange waits for
        expired.set()
        if conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(timeout_s, expire)
    timer.daemon = True
    start = time.monotonic()
    timer.start()
    try:
        conn.request("POST" if body is not None else "GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                     body=body, headers={**headers, "Connection": "close"})
        response = conn.getresponse()
        declared = response.length
        if declared is not None and declared > max_bytes:
            raise WebError(f"{url}: the answer declares {declared} bytes, more than the {max_bytes} accepted")
        chunks, size = [], 0
        while chunk := response.read1(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise WebError(f"{url}: the answer is larger than the {max_bytes} bytes accepted (cut)")
            chunks.append(chunk)
        if expired.is_set():
            raise TimeoutError
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, b"".join(chunks))
    except WebError:
        raise
    except ConnectionRefusedError:
        raise WebError(f"{url}: connection refused") from None
    except TimeoutError:
        raise WebError(f"{url}: no answer within {timeout_s:g} s") from None
    except Exception as exc:  # noqa: BLE001 - every transport failure is one line
        if expired.is_set():
            raise WebError(f"{url}: no complete answer within {timeout_s:g} s "
                           f"({time.monotonic() - start:.3g} s)") from None
        raise WebError(f"{url}: {type(exc).__name__}: {str(exc)[:200]}") from None
    finally:
        timer.cancel()
        conn.close()
