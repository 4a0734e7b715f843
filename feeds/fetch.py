"""HTTP only: one polite, bounded, conditional GET of a feed, safe against any server.

Every request has a connect time-out and a total time-out, reads at most `max_bytes` of
body (decompressed by us, so a gzip bomb is cut off, not inflated), follows at most five
redirects, sends the stored ETag and Last-Modified, and names Openings with a contact URL.
Each connection is checked where it is made: the host is resolved, and if any of its
addresses is loopback, private, link-local, a cloud metadata address, multicast or
reserved, nothing is sent (unless private addresses are allowed, for tests and intranets).
That check runs for the first request and for every redirect hop, and it connects to the
very address it checked, so a second DNS answer cannot slip a private address in.
At most one request at a time goes to any one host.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx

from .types import FetchResult

PRODUCT = "Openings/0.1"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
PASSED_TO_PARSER = ("content-type", "content-location", "content-language")
"""Response headers the parser reads (charset, base URL, language); the rest stay here."""

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
"""Cloud instance-metadata services (AWS, ECS, Alibaba, AWS over IPv6): never fetched."""

Resolver = Callable[[str, int], list[str]]


class FetchError(Exception):
    """An expected failure of one fetch; its message is the line the operator reads."""


class RefusedAddress(FetchError):
    """The host resolves to an address feeds may not be fetched from."""


@dataclass(frozen=True)
class FetchSettings:
    """How feeds are fetched; built from the app's `FEEDS_*` settings."""

    contact_url: str
    max_bytes: int = 5 * 1024 * 1024
    connect_timeout_seconds: float = 10.0
    timeout_seconds: float = 30.0
    """The whole request, redirects and body included, must finish within this."""
    allow_private_addresses: bool = False
    max_redirects: int = 5

    @property
    def user_agent(self) -> str:
        """`Openings/0.1 (+contact URL)`, so a publisher can tell who polls them and write."""
        return f"{PRODUCT} (+{self.contact_url})"


def address_refusal(address: str, *, allow_private: bool = False) -> str | None:
    """Why feeds may not be fetched from this IP address, or None when they may.

    Metadata, unspecified and multicast addresses are always refused; loopback, private,
    link-local, shared and reserved ones only unless `allow_private`.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if allow_private:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"cannot resolve {host}: {error}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str, *, allow_private: bool = False, resolver: Resolver = resolve) -> list[str]:
    """Refuse a feed URL that is not http(s) or whose host resolves to a refused address.

    Returns the addresses it resolved to. Raises FetchError with a sentence saying why.
    """
    host, port = _host_and_port(url)
    addresses = resolver(host, port)
    _check_addresses(host, addresses, allow_private)
    return addresses


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a `Retry-After` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """Fetches feeds with one shared connection pool; safe to use from several threads."""

    def __init__(self, settings: FetchSettings, *, resolver: Resolver = resolve) -> None:
        self.settings = settings
        self._host_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._client = httpx.Client(
            transport=_GuardedTransport(
                _GuardedBackend(resolver, settings.allow_private_addresses)
            ),
            timeout=httpx.Timeout(
                settings.timeout_seconds, connect=settings.connect_timeout_seconds
            ),
            follow_redirects=False,
            trust_env=False,
            headers={
                "User-Agent": settings.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        now: datetime | None = None,
    ) -> FetchResult:
        """GET `url` with the stored validators; every expected failure comes back as data."""
        now = now or datetime.now(UTC)
        deadline = time.monotonic() + self.settings.timeout_seconds
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        current, moved_to, status = url, None, None
        seen, redirects, all_permanent = {url}, 0, True
        try:
            while True:
                _host_and_port(current)
                if time.monotonic() > deadline:
                    raise httpx.TimeoutException("deadline passed between redirects")
                with (
                    self._one_at_a_time(current),
                    self._client.stream("GET", current, headers=conditional) as response,
                ):
                    status = response.status_code
                    location = response.headers.get("location")
                    if status not in REDIRECT_STATUSES or not location:
                        return self._answer(
                            response, url=current, moved_to=moved_to, now=now, deadline=deadline
                        )
                    target = str(response.url.join(location))
                if target in seen:
                    raise FetchError(f"redirect loop: {current} leads back to {target}")
                redirects += 1
                if redirects > self.settings.max_redirects:
                    raise FetchError(
                        f"more than {self.settings.max_redirects} redirects (the last to {target})"
                    )
                all_permanent = all_permanent and status in PERMANENT_REDIRECT_STATUSES
                if all_permanent:
                    moved_to = target
                seen.add(target)
                current = target
        except FetchError as error:
            return FetchResult("failed", url=current, status=status, error=str(error))
        except httpx.TimeoutException:
            return FetchResult(
                "failed",
                url=current,
                status=status,
                error=f"timed out (the limit is {self.settings.timeout_seconds:g} s)",
            )
        except httpx.HTTPError as error:
            return FetchResult(
                "failed", url=current, status=status, error=f"connection failed: {_describe(error)}"
            )

    def _answer(
        self,
        response: httpx.Response,
        *,
        url: str,
        moved_to: str | None,
        now: datetime,
        deadline: float,
    ) -> FetchResult:
        status = response.status_code
        headers = response.headers
        etag = _validator(headers.get("etag"), 500)
        last_modified = _validator(headers.get("last-modified"), 100)
        if status == 304:
            return FetchResult(
                "not_modified",
                url=url,
                status=status,
                etag=etag,
                last_modified=last_modified,
                moved_to=moved_to,
            )
        if status == 410:
            return FetchResult(
                "gone", url=url, status=status, error="410 Gone: the feed was removed"
            )
        if not 200 <= status < 300:
            retry_after = None
            if status in RETRY_AFTER_STATUSES:
                retry_after = retry_after_seconds(headers.get("retry-after"), now)
            reason = response.reason_phrase or ""
            return FetchResult(
                "failed",
                url=url,
                status=status,
                retry_after_seconds=retry_after,
                error=f"HTTP {status} {reason}".strip(),
            )
        content = self._read_body(response, deadline)
        return FetchResult(
            "fetched",
            url=url,
            content=content,
            headers={k: headers[k] for k in PASSED_TO_PARSER if k in headers},
            status=status,
            etag=etag,
            last_modified=last_modified,
            moved_to=moved_to,
        )

    def _read_body(self, response: httpx.Response, deadline: float) -> bytes:
        """The body, decompressed as it streams, refused once it passes the size cap."""
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(
                f"the feed is larger than {_size(limit)} ({_size(int(declared))} declared)"
            )
        decoder = _decoder(response.headers.get("content-encoding", ""))
        received = 0
        body = bytearray()
        for chunk in response.iter_raw():
            if time.monotonic() > deadline:
                raise FetchError(
                    f"timed out reading the body (the limit is {self.settings.timeout_seconds:g} s)"
                )
            received += len(chunk)
            if received > limit:
                raise FetchError(f"the feed is larger than {_size(limit)}; it was cut off")
            body += decoder.decode(chunk, limit - len(body) + 1)
            if len(body) > limit:
                raise FetchError(
                    f"the feed is larger than {_size(limit)} once decompressed; it was cut off"
                )
        body += decoder.flush()
        return bytes(body)

    @contextmanager
    def _one_at_a_time(self, url: str) -> Iterator[None]:
        """Hold the host's lock for the whole request, so no host gets two at once from us."""
        host = httpx.URL(url).host.lower()
        with self._locks_guard:
            lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:
            yield


class _Identity:
    def decode(self, data: bytes, room: int) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Inflate:
    """gzip or deflate (zlib-wrapped or raw), never producing more than `room` bytes per call.

    Output that would pass `room` stays inside the inflater; the caller, seeing `room` bytes
    come back, knows the cap is passed and stops, so a bomb is never inflated in memory.
    """

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)
        self._started = False

    def decode(self, data: bytes, room: int) -> bytes:
        try:
            out = self._inflater.decompress(data, room)
        except zlib.error:
            if self._gzip or self._started:
                raise FetchError("the compressed body is corrupt") from None
            self._inflater = zlib.decompressobj(
                -zlib.MAX_WBITS
            )  # raw deflate, as some servers send
            out = self._try_raw(data, room)
        self._started = True
        return out

    def _try_raw(self, data: bytes, room: int) -> bytes:
        try:
            return self._inflater.decompress(data, room)
        except zlib.error:
            raise FetchError("the compressed body is corrupt") from None

    def flush(self) -> bytes:
        try:
            return self._inflater.flush()
        except zlib.error:
            raise FetchError("the compressed body is corrupt") from None


def _decoder(content_encoding: str) -> _Identity | _Inflate:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _Inflate(encoding)
    raise FetchError(f"unsupported content encoding {encoding!r}")


class _GuardedBackend(httpcore.SyncBackend):
    """Opens each TCP connection to an address it has just resolved and checked itself."""

    def __init__(self, resolver: Resolver, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolver(host, port)
        _check_addresses(host, addresses, self._allow_private)
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connection pool opening connections through the guard."""

    def __init__(self, backend: _GuardedBackend) -> None:
        ssl_context = _ssl_context()
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=50,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend,
        )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for the process: loading the CA bundle takes a tenth of a second."""
    return httpx.create_ssl_context()


def _check_addresses(host: str, addresses: list[str], allow_private: bool) -> None:
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    for address in addresses:
        reason = address_refusal(address, allow_private=allow_private)
        if reason:
            where = f"{host} is" if host == address else f"{host} resolves to {address},"
            raise RefusedAddress(f"refused: {where} {reason}")


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise FetchError(f"not a valid address: {error}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchError(
            f"only http and https feeds are fetched, not {parsed.scheme or 'this'}: {url}"
        )
    if not parsed.host:
        raise FetchError(f"no host in {url}")
    return parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


def _validator(value: str | None, longest: int) -> str | None:
    """A validator as sent, or None when absent or too long to store (it would be wrong cut)."""
    if not value or len(value) > longest:
        return None
    return value


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB"
    return f"{count / 1024:.0f} KiB"


def _describe(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
