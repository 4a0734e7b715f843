"""Fetching: the SSRF guard, conditional GET, size cap, time-outs, redirects, politeness.

Every server here is pytest-httpserver on 127.0.0.1; addresses elsewhere are refused
before any packet is sent.
"""

import gzip
import threading
import time
import zlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from conftest import free_port, rss_feed, rss_item
from werkzeug import Request, Response

from feeds.fetch import (
    Fetcher,
    FetchError,
    RefusedAddress,
    address_refusal,
    check_url,
    retry_after_seconds,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEED = rss_feed(rss_item(1), rss_item(2))


@pytest.mark.parametrize(
    ("address", "allow_private", "refusal"),
    [
        ("93.184.216.34", False, None),
        ("2606:4700:4700::1111", False, None),
        ("127.0.0.1", False, "loopback"),
        ("127.8.9.10", False, "loopback"),
        ("::1", False, "loopback"),
        ("::ffff:127.0.0.1", False, "loopback"),
        ("10.1.2.3", False, "private"),
        ("172.16.0.1", False, "private"),
        ("192.168.1.1", False, "private"),
        ("fc00::1", False, "private"),
        ("169.254.1.1", False, "link-local"),
        ("fe80::1", False, "link-local"),
        ("fe80::1%eth0", False, "link-local"),
        ("100.64.0.1", False, "non-public"),
        ("169.254.169.254", True, "metadata"),
        ("fd00:ec2::254", True, "metadata"),
        ("100.100.100.200", True, "metadata"),
        ("0.0.0.0", True, "unspecified"),
        ("::", True, "unspecified"),
        ("224.0.0.1", True, "multicast"),
        ("ff02::1", True, "multicast"),
        ("127.0.0.1", True, None),
        ("10.0.0.7", True, None),
        ("fe80::1", True, None),
    ],
)
def test_address_refusal(address, allow_private, refusal):
    reason = address_refusal(address, allow_private=allow_private)
    if refusal is None:
        assert reason is None
    else:
        assert reason and refusal in reason


@pytest.mark.parametrize(
    ("url", "answer", "message"),
    [
        ("ftp://example.org/feed.xml", ["93.184.216.34"], "only http and https"),
        ("file:///etc/passwd", ["93.184.216.34"], "only http and https"),
        ("javascript:alert(1)", ["93.184.216.34"], "only http and https"),
        ("http:///feed.xml", ["93.184.216.34"], "no host"),
        ("https://intranet.example/feed", ["10.0.0.5"], "private address"),
        ("https://mixed.example/feed", ["93.184.216.34", "192.168.0.9"], "private address"),
        ("http://127.0.0.1/feed", ["127.0.0.1"], "127.0.0.1 is a loopback address"),
        ("http://nowhere.example/feed", [], "cannot resolve"),
    ],
)
def test_check_url_refuses(url, answer, message):
    with pytest.raises(FetchError, match=message):
        check_url(url, resolver=lambda host, port: answer)


def test_check_url_accepts_a_public_host():
    assert check_url("https://example.org/feed", resolver=lambda h, p: ["93.184.216.34"]) == [
        "93.184.216.34"
    ]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Sun, 01 Mar 2026 12:30:00 GMT", 1800.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


def test_a_feed_is_fetched_with_our_user_agent_and_both_validators_come_back(httpserver, fetcher):
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED,
        content_type="application/rss+xml; charset=utf-8",
        headers={"ETag": '"v1"', "Last-Modified": "Sun, 01 Mar 2026 09:00:00 GMT"},
    )
    result = fetcher.fetch(httpserver.url_for("/feed.xml"))
    assert result.outcome == "fetched"
    assert result.content == FEED
    assert (result.etag, result.last_modified) == ('"v1"', "Sun, 01 Mar 2026 09:00:00 GMT")
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"] == "Openings/0.1 (+https://openings.example.org/about)"
    assert request.headers["Accept-Encoding"] == "gzip, deflate"
    assert "If-None-Match" not in request.headers


def test_a_conditional_request_answered_304_costs_nothing(httpserver, fetcher):
    httpserver.expect_request(
        "/feed.xml",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Sun, 01 Mar 2026 09:00:00 GMT"},
    ).respond_with_data("", status=304, headers={"ETag": '"v1"'})
    result = fetcher.fetch(
        httpserver.url_for("/feed.xml"),
        etag='"v1"',
        last_modified="Sun, 01 Mar 2026 09:00:00 GMT",
    )
    assert (result.outcome, result.content, result.etag) == ("not_modified", b"", '"v1"')


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
)
def test_compressed_bodies_are_decoded(httpserver, fetcher, encoding, compress):
    httpserver.expect_request("/feed.xml").respond_with_data(
        compress(FEED), headers={"Content-Encoding": encoding}
    )
    result = fetcher.fetch(httpserver.url_for("/feed.xml"))
    assert (result.outcome, result.content) == ("fetched", FEED)


def test_a_corrupt_compressed_body_is_an_error(httpserver, fetcher):
    httpserver.expect_request("/feed.xml").respond_with_data(
        b"not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    result = fetcher.fetch(httpserver.url_for("/feed.xml"))
    assert result.outcome == "failed"
    assert "corrupt" in result.error


def test_a_20_mb_body_declared_is_refused_before_reading(httpserver, fetcher):
    httpserver.expect_request("/big.xml").respond_with_data(b"<" * (20 * 1024 * 1024))
    result = fetcher.fetch(httpserver.url_for("/big.xml"))
    assert result.outcome == "failed"
    assert "larger than 256 KiB (20.0 MiB declared)" in result.error


def test_a_20_mb_body_streamed_without_a_length_is_cut_off(httpserver, fetcher):
    def endless(request: Request) -> Response:
        return Response((b"<item>" * 10_000 for _ in range(350)), content_type="text/xml")

    httpserver.expect_request("/big.xml").respond_with_handler(endless)
    result = fetcher.fetch(httpserver.url_for("/big.xml"))
    assert result.outcome == "failed"
    assert "larger than 256 KiB; it was cut off" in result.error


def test_a_gzip_bomb_is_cut_off_without_being_inflated(httpserver, fetcher):
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 256 * 1024
    httpserver.expect_request("/bomb.xml").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}
    )
    result = fetcher.fetch(httpserver.url_for("/bomb.xml"))
    assert result.outcome == "failed"
    assert "once decompressed" in result.error


def test_a_server_dripping_bytes_slower_than_the_time_out_is_given_up(httpserver, fetcher):
    def drip(request: Request) -> Response:
        def body():
            yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
            for _ in range(100):  # ten seconds in all, ten times the time-out
                time.sleep(0.1)
                yield b" "

        return Response(body(), content_type="application/rss+xml")

    httpserver.expect_request("/slow.xml").respond_with_handler(drip)
    result = fetcher.fetch(httpserver.url_for("/slow.xml"))
    assert result.outcome == "failed"
    assert "timed out reading the body" in result.error


def test_a_server_that_answers_nothing_times_out(httpserver, fetcher):
    def silent(request: Request) -> Response:
        time.sleep(1.5)
        return Response(FEED)

    httpserver.expect_request("/silent.xml").respond_with_handler(silent)
    result = fetcher.fetch(httpserver.url_for("/silent.xml"))
    assert result.outcome == "failed"
    assert "timed out" in result.error


def test_a_closed_port_is_a_connection_error(fetcher):
    result = fetcher.fetch(f"http://127.0.0.1:{free_port()}/feed.xml")
    assert result.outcome == "failed"
    assert result.error.startswith("connection failed")


@pytest.mark.parametrize(
    ("status", "outcome", "error"),
    [
        (404, "failed", "HTTP 404 NOT FOUND"),
        (500, "failed", "HTTP 500 INTERNAL SERVER ERROR"),
        (410, "gone", "410 Gone"),
    ],
)
def test_http_errors(httpserver, fetcher, status, outcome, error):
    httpserver.expect_request("/feed.xml").respond_with_data("no", status=status)
    result = fetcher.fetch(httpserver.url_for("/feed.xml"))
    assert (result.outcome, result.status) == (outcome, status)
    assert error in result.error


@pytest.mark.parametrize(
    ("status", "retry_after", "seconds"),
    [(429, "120", 120.0), (503, "Sun, 01 Mar 2026 13:00:00 GMT", 3600.0), (503, None, None)],
)
def test_retry_after_is_read_on_429_and_503(httpserver, fetcher, status, retry_after, seconds):
    headers = {"Retry-After": retry_after} if retry_after else {}
    httpserver.expect_request("/feed.xml").respond_with_data("", status=status, headers=headers)
    result = fetcher.fetch(httpserver.url_for("/feed.xml"), now=NOW)
    assert result.outcome == "failed"
    assert result.retry_after_seconds == seconds


def redirect(httpserver, path: str, to: str, status: int = 302) -> None:
    httpserver.expect_request(path).respond_with_data("", status=status, headers={"Location": to})


@pytest.mark.parametrize(
    ("hops", "moved_to"),
    [
        ([301], "/hop1"),
        ([308, 301], "/hop2"),
        ([301, 302], "/hop1"),
        ([302, 301], None),
        ([307], None),
    ],
)
def test_only_permanent_redirects_move_the_feed(httpserver, fetcher, hops, moved_to):
    for index, status in enumerate(hops):
        redirect(httpserver, f"/hop{index}", f"/hop{index + 1}", status)
    httpserver.expect_request(f"/hop{len(hops)}").respond_with_data(FEED)
    result = fetcher.fetch(httpserver.url_for("/hop0"))
    assert result.outcome == "fetched"
    assert result.url == httpserver.url_for(f"/hop{len(hops)}")
    assert result.moved_to == (httpserver.url_for(moved_to) if moved_to else None)


def test_five_redirects_are_followed_and_a_sixth_is_not(httpserver, fetcher):
    for index in range(6):
        redirect(httpserver, f"/hop{index}", f"/hop{index + 1}")
    httpserver.expect_request("/hop6").respond_with_data(FEED)
    assert fetcher.fetch(httpserver.url_for("/hop1")).outcome == "fetched"
    result = fetcher.fetch(httpserver.url_for("/hop0"))
    assert result.outcome == "failed"
    assert "more than 5 redirects" in result.error


def test_a_redirect_loop_is_an_error(httpserver, fetcher):
    redirect(httpserver, "/a", "/b")
    redirect(httpserver, "/b", "/a")
    result = fetcher.fetch(httpserver.url_for("/a"))
    assert result.outcome == "failed"
    assert "redirect loop" in result.error


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("file:///etc/passwd", "only http and https"),
    ],
)
def test_every_redirect_hop_is_checked(httpserver, fetcher, location, message):
    redirect(httpserver, "/feed.xml", location)
    result = fetcher.fetch(httpserver.url_for("/feed.xml"))
    assert result.outcome == "failed"
    assert message in result.error


def test_a_name_resolving_to_loopback_is_refused_without_a_request(httpserver, fetch_settings):
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    settings = replace(fetch_settings, allow_private_addresses=False)
    with Fetcher(settings, resolver=lambda host, port: ["127.0.0.1"]) as fetcher:
        result = fetcher.fetch(f"http://feeds.example.org:{httpserver.port}/feed.xml")
    assert result.outcome == "failed"
    assert result.error == "refused: feeds.example.org resolves to 127.0.0.1, a loopback address"
    assert httpserver.log == []


def test_the_connection_goes_to_the_address_that_was_checked(httpserver, fetch_settings):
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    with Fetcher(fetch_settings, resolver=lambda host, port: ["127.0.0.1"]) as fetcher:
        result = fetcher.fetch(f"http://feeds.example.org:{httpserver.port}/feed.xml")
    assert result.outcome == "fetched"
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"feeds.example.org:{httpserver.port}"


def test_refused_address_is_a_fetch_error():
    assert issubclass(RefusedAddress, FetchError)


def test_one_request_at_a_time_per_host(fetch_settings):
    from pytest_httpserver import HTTPServer

    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def slow(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Response(FEED)

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/feed.xml").respond_with_handler(slow)
    server.start()
    try:
        with Fetcher(fetch_settings) as fetcher:
            threads = [
                threading.Thread(target=fetcher.fetch, args=(server.url_for("/feed.xml"),))
                for _ in range(6)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        server.stop()
    assert len(server.log) == 6
    assert state["most"] == 1
