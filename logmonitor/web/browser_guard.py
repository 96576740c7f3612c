"""Requests from web pages, refused where a page could act for its visitor (DESIGN section 6).

A page the developer visits may send requests to ``127.0.0.1``: cross-site ones without a CORS
preflight (simple methods and content types), and, after DNS rebinding, same-origin ones under a
name of the attacker's. So, on the worker and the ingest server alike:

- a browser request that is cross-site (``Sec-Fetch-Site``, or an ``Origin`` whose host is not
  the request's) is refused unless its origin is configured; top-level GET navigations pass (a
  link to the dashboard from an alert), they cannot read what they load;
- without a token, only a ``Host`` that is a loopback name or a configured name is answered.

Standard library and aiohttp only: the ingest server uses it too.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

__all__ = ["BrowserGuard", "GuardRefusal", "host_name", "is_loopback_name"]

_CROSS = frozenset({"cross-site", "same-site"})  # same-site: a sibling subdomain, or another port of it
_SAFE_NAVIGATION = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class GuardRefusal:
    """Why a request is refused: its status (421 or 403), error code and what to do."""

    status: int
    error: str
    detail: str


def host_name(host: str) -> str:
    """The name in a ``Host`` header (or an origin's netloc), without port, brackets or trailing dot, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_loopback_name(name: str) -> bool:
    """Whether ``name`` can only mean this machine: ``localhost`` (and its subdomains), 127.0.0.0/8, ``::1``."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class BrowserGuard:
    """The checks a server applies to every request but its open paths."""

    allowed_origins: frozenset[str]
    allowed_hosts: frozenset[str] | None  # None: any Host (a token is set, so a rebound page has none)
    hosts_variable: str

    @classmethod
    def of(cls, *, token: str | None, origins: Iterable[str], hosts: Iterable[str], hosts_variable: str
           ) -> BrowserGuard:
        """The guard of a server with (or without) ``token``, configured ``origins`` and public ``hosts``."""
        names = None if token else frozenset(host_name(host) for host in hosts if host)
        return cls(frozenset(origin.rstrip("/") for origin in origins), names, hosts_variable)

    def refusal(self, request: web.BaseRequest) -> GuardRefusal | None:
        """Why ``request`` must not be answered, or None."""
        if self.allowed_hosts is not None:
            name = host_name(request.host)
            if not (is_loopback_name(name) or name in self.allowed_hosts):
                return GuardRefusal(421, "misdirected_request", f"this server answers requests for a loopback name "
                                    f"or a name in {self.hosts_variable}, not {name[:100]!r}")
        origin = request.headers.get("Origin")
        if origin is not None and ("*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins):
            return None
        navigation = (request.headers.get("Sec-Fetch-Mode") == "navigate" and request.method in _SAFE_NAVIGATION)
        if navigation:
            return None
        if request.headers.get("Sec-Fetch-Site") in _CROSS or (origin is not None and not _same_host(origin, request)):
            return GuardRefusal(403, "cross_site_request", "requests from other sites' pages are refused; "
                                "configure the page's origin (LOGMONITOR_CORS_ORIGINS) to allow it")
        return None


def _same_host(origin: str, request: web.BaseRequest) -> bool:
    """Whether ``origin`` names the host the request was sent to (schemes may differ behind a TLS proxy)."""
    netloc = urllib.parse.urlsplit(origin).netloc
    return bool(netloc) and netloc.lower() == request.host.strip().lower()
