"""Requests from web pages (issue 26 item 3): cross-site ones refused unless configured, Host checked tokenless."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from logmonitor.web.browser_guard import BrowserGuard, host_name, is_loopback_name

OPEN = BrowserGuard.of(token=None, origins=(), hosts=["logs.internal"], hosts_variable="LOGMONITOR_ALLOWED_HOSTS")
GUARDED = BrowserGuard.of(token="t", origins=["https://grafana.example"], hosts=[], hosts_variable="X")


def status(guard: BrowserGuard, method: str = "GET", host: str = "127.0.0.1:5004", **headers: str) -> int:
    request = make_mocked_request(method, "/api/v1/logs/stats",
                                  headers={"Host": host, **{k.replace("_", "-"): v for k, v in headers.items()}})
    refusal = guard.refusal(request)
    return 200 if refusal is None else refusal.status


@pytest.mark.parametrize(("host", "answered"), [
    ("127.0.0.1:5004", True), ("localhost:4318", True), ("LOCALHOST.", True), ("[::1]:5004", True),
    ("127.9.9.9", True), ("app.localhost:5004", True), ("logs.internal:5004", True),
    ("rebind.evil.example", False), ("rebind.evil.example:5004", False), ("0.0.0.0:5004", False),
    ("192.168.1.10:5004", False), ("localhost.evil.example", False), ("", False),
])
def test_without_a_token_only_loopback_and_configured_hosts_are_answered(host: str, answered: bool) -> None:
    assert status(OPEN, host=host) == (200 if answered else 421)
    assert status(GUARDED, host=host) == 200, "with a token a rebound page has no credential to send"


@pytest.mark.parametrize(("method", "headers", "expected"), [
    ("POST", {"Sec_Fetch_Site": "cross-site", "Origin": "http://evil.example"}, 403),
    ("POST", {"Sec_Fetch_Site": "cross-site"}, 403),
    ("POST", {"Sec_Fetch_Site": "same-site"}, 403),
    ("POST", {"Origin": "http://evil.example"}, 403),  # a browser without Sec-Fetch-*
    ("POST", {"Origin": "null"}, 403),
    ("POST", {"Sec_Fetch_Mode": "navigate", "Sec_Fetch_Site": "cross-site"}, 403),  # a form posted across sites
    ("GET", {"Sec_Fetch_Mode": "no-cors", "Sec_Fetch_Site": "cross-site"}, 403),  # <script src=...>
    ("GET", {"Sec_Fetch_Mode": "navigate", "Sec_Fetch_Site": "cross-site"}, 200),  # a link from an alert
    ("POST", {"Sec_Fetch_Site": "same-origin", "Origin": "http://127.0.0.1:5004"}, 200),
    ("POST", {"Origin": "https://127.0.0.1:5004"}, 200),  # behind a TLS proxy
    ("GET", {"Sec_Fetch_Site": "none"}, 200),
    ("POST", {}, 200),  # not a browser: curl, shippers, Grafana's server side
])
def test_cross_site_browser_requests_are_refused(method: str, headers: dict[str, str], expected: int) -> None:
    assert status(OPEN, method, **headers) == expected


def test_a_configured_origin_may_ask_across_sites() -> None:
    headers = {"Sec_Fetch_Site": "cross-site", "Sec_Fetch_Mode": "cors"}
    assert status(GUARDED, "POST", Origin="https://grafana.example", **headers) == 200
    assert status(GUARDED, "POST", Origin="https://grafana.example.evil", **headers) == 403
    anyone = BrowserGuard.of(token="t", origins=["*"], hosts=[], hosts_variable="X")
    assert status(anyone, "POST", Origin="https://any.example", **headers) == 200


def test_host_names() -> None:
    assert host_name("[::1]:5004") == "::1" and host_name("Example.COM.:80") == "example.com"
    assert is_loopback_name("::1") and not is_loopback_name("localhost.evil.example")
