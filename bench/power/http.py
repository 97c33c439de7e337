"""The one HTTP client of the meters (Redfish, Prometheus): a GET crossing the boundary with limits.

An answer is read under four bounds, so a hostile or broken server costs one failed read:

- a **byte limit** on the body (a ``Content-Length`` above it is refused before reading; a body
  that grows past it is cut);
- a **per-read timeout**: connecting, or waiting for the next bytes, longer than ``timeout_s``;
- a **total deadline** for the whole exchange, headers included (a trickled or endless answer is
  cut when it passes, by shutting the socket from a timer);
- **TLS verified** against the system trust store (``SSL_CERT_FILE``) unless ``insecure``.

Every failure is one :class:`HttpError` line naming the URL; header values given as ``secret``
(``Authorization``) never appear in a message or a ``repr``, and are not sent on to another
host when the server redirects.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bench.errors import MeterReadError

DEFAULT_MAX_BYTES = 4 << 20
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
_CHUNK = 65536


class HttpError(MeterReadError):
    """A failed GET; ``status`` is the HTTP status when the server answered one (>= 400)."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url, self.status = url, status


@dataclass(frozen=True)
class Response:
    """A complete answer within the limits."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes


class HttpClient:
    """GETs with a byte limit, a per-read timeout, a total deadline and verified TLS.

    Args:
        timeout_s: per read (connect, and each wait for more bytes).
        deadline_s: for the whole exchange (default ``timeout_s``).
        max_bytes: the most body accepted.
        insecure: do not verify TLS certificates (the caller records that it did not).
        headers: sent with every request.
        secret_headers: sent with every request to the first host, never shown (``Authorization``).
        meter: names the meter in advice (``add ',insecure' to the meter (redfish:URL,insecure)``).
        peer: what the server is, in messages (``BMC``, ``exporter``).
    """

    def __init__(self, *, timeout_s: float, deadline_s: float | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 insecure: bool = False, headers: Mapping[str, str] | None = None,
                 secret_headers: Mapping[str, str] | None = None, meter: str = "meter", peer: str = "server") -> None:
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s if deadline_s is not None else timeout_s
        self.max_bytes, self.insecure, self.meter, self.peer = max_bytes, insecure, meter, peer
        self.headers = dict(headers or {})
        self._secret_headers = dict(secret_headers or {})
        self.context = ssl.create_default_context()
        if insecure:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE

    def __repr__(self) -> str:
        hidden = {k: "***" for k in self._secret_headers}
        return (f"HttpClient(timeout_s={self.timeout_s:g}, deadline_s={self.deadline_s:g}, max_bytes={self.max_bytes}, "
                f"insecure={self.insecure}, headers={ {**self.headers, **hidden} })")

    def get(self, url: str) -> Response:
        """The answer to ``GET url`` (redirects followed, at most :data:`MAX_REDIRECTS`), status < 400.

        Raises:
            HttpError: refused, unreachable, TLS, timeout, deadline, too large, cut short, HTTP >= 400.
        """
        end = time.monotonic() + self.deadline_s
        first_host = urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            secret = self._secret_headers if urlsplit(url).netloc == first_host else {}
            response = self._once(url, end, secret)
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                return response
            url = urljoin(url, location)
        raise HttpError(f"{url}: more than {MAX_REDIRECTS} redirects", url=url)

    def _once(self, url: str, end: float, secret: Mapping[str, str]) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpError(f"{url}: not an http(s) URL", url=url)
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise HttpError(f"{url}: no answer within {self.deadline_s:g} s", url=url)
        timeout = min(self.timeout_s, remaining)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=self.context)
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        expired = threading.Event()
        body_started = threading.Event()
        opened: list[socket.socket] = []
        cut_in_body: list[bool] = []

        def expire() -> None:  # the deadline: cut whatever the exchange is waiting for
            cut_in_body.append(body_started.is_set())
            expired.set()
            for sock in opened:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw socket, TLS or not
                except OSError:
                    pass

        timer = threading.Timer(remaining, expire)
        timer.daemon = True
        timer.start()
        response: http.client.HTTPResponse | None = None
        try:
            conn.connect()
            if conn.sock is not None:
                opened.append(conn.sock)
            if expired.is_set():
                raise TimeoutError
            path = parts.path or "/"
            conn.request("GET", path + (f"?{parts.query}" if parts.query else ""),
                         headers={**self.headers, **secret, "Connection": "close"})
            response = conn.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            if response.status >= 400:
                raise HttpError(f"{url}: HTTP {response.status}", url=url, status=response.status)
            if response.status in REDIRECTS:
                return Response(url, response.status, headers, b"")
            declared = response.length
            if declared is not None and declared > self.max_bytes:
                raise HttpError(f"{url}: the answer declares {declared} bytes, more than the {self.max_bytes} "
                                "accepted", url=url)
            chunks, size = [], 0
            body_started.set()
            while True:
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise HttpError(f"{url}: the answer is larger than the {self.max_bytes} bytes accepted (cut)",
                                    url=url)
                chunks.append(chunk)
            if expired.is_set():
                raise TimeoutError
            if declared is not None and size < declared:
                raise HttpError(f"{url}: the answer was cut short ({size} of {declared} bytes)", url=url)
            return Response(url, response.status, headers, b"".join(chunks))
        except HttpError:
            raise
        except Exception as exc:  # noqa: BLE001 - every transport failure is one line
            raise self._failure(url, exc, expired.is_set(), any(cut_in_body)) from None
        finally:
            timer.cancel()
            if response is not None:
                response.close()
            conn.close()

    def _failure(self, url: str, exc: Exception, expired: bool, in_body: bool) -> HttpError:
        netloc = urlsplit(url).netloc
        if expired:
            what = ("the answer did not end (trickled or endless body): cut" if in_body else "no answer")
            return HttpError(f"{url}: {what} within {self.deadline_s:g} s", url=url)
        reason = exc
        if isinstance(reason, ssl.SSLCertVerificationError):
            return HttpError(f"{url}: TLS certificate not trusted ({reason.verify_message}): point SSL_CERT_FILE at the "
                             f"{self.peer}'s CA, or add ',insecure' to the meter ({self.meter}:URL,insecure) to skip "
                             "verification", url=url)
        if isinstance(reason, ssl.SSLError):
            return HttpError(f"{url}: TLS failure ({reason.reason or reason})", url=url)
        if isinstance(reason, ConnectionRefusedError):
            return HttpError(f"{url}: connection refused ({self.peer} unreachable at {netloc})", url=url)
        if isinstance(reason, (TimeoutError, socket.timeout)):  # a read waits at most the deadline's remainder
            return HttpError(f"{url}: no answer within {min(self.timeout_s, self.deadline_s):g} s", url=url)
        if isinstance(reason, socket.gaierror):
            return HttpError(f"{url}: unknown host {urlsplit(url).hostname!r}", url=url)
        return HttpError(f"{url}: {type(reason).__name__}: {reason}", url=url)
