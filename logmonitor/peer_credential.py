"""Requests between workers carry a short-lived credential derived from the API token, never the token itself.

Anyone who may join the app's consumer group advertises a URL that the others then ask for
partial answers; forwarding the caller's ``Authorization`` header there would hand every
caller's token to whoever joined. Instead a worker signs each peer request (method, path with
query, time) with a key derived from the token; a peer checks the signature and that the time is
within :data:`WINDOW_SECONDS` of its own clock. A captured credential opens that one request for
that window, and reveals neither the token nor the key.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["HEADER", "WINDOW_SECONDS", "credential_valid", "peer_credential", "peer_key"]

HEADER = "X-Logmonitor-Peer"
WINDOW_SECONDS = 30.0  # workers' clocks may differ by this much (NTP keeps them within milliseconds)
_PURPOSE = b"logmonitor peer request v1"
_MAX_STAMP_DIGITS = 12


def peer_key(token: str) -> bytes:
    """The signing key of peer requests: derived from ``token``, useless as the token."""
    return hmac.new(token.encode(), _PURPOSE, hashlib.sha256).digest()


def _signature(key: bytes, method: str, target: str, stamp: str) -> str:
    message = f"{method.upper()}\n{target}\n{stamp}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def peer_credential(key: bytes, method: str, target: str, now: float) -> str:
    """The header value for a request of ``method`` to ``target`` (path and query, as sent) at ``now``."""
    stamp = str(int(now))
    return f"{stamp}.{_signature(key, method, target, stamp)}"


def credential_valid(key: bytes, credential: str, method: str, target: str, now: float) -> bool:
    """Whether ``credential`` signs this request with ``key`` at a time within the window of ``now``."""
    stamp, _, signature = credential.partition(".")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= _MAX_STAMP_DIGITS):
        return False
    if abs(now - int(stamp)) > WINDOW_SECONDS:
        return False
    try:
        supplied = signature.encode("ascii")
    except UnicodeError:
        return False
    return hmac.compare_digest(supplied, _signature(key, method, target, stamp).encode())
