"""Grouping version 1, frozen: today's groups keep receiving their events (``fingerprint.py`` chooses the version).

The algorithm of DESIGN section 4 before grouping had versions: service, exception type, the
innermost application frame's file and function, and the message with numbers, hex, UUIDs,
quoted and bracketed values masked. Never change what it returns: an event finds its existing
group by this fingerprint. Later versions may reuse its parts, never the other way round.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

__all__ = ["HEX", "NUMBER", "PYTHON_LIBRARY_PATH", "UUID", "digest", "fingerprint", "mask_bracketed", "mask_message"]

# Quoted values are masked by a regex: it is linear, as a quote without a closing one is the last of its kind.
_QUOTED = re.compile(r"'[^']*+'|\"[^\"]*+\"")
_CLOSER = {"[": "]", "(": ")", "{": "}", "<": ">"}
UUID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b")
HEX = re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MASKS = ((UUID, "#uuid"), (HEX, "#hex"), (NUMBER, "#n"))
_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\S+)')
PYTHON_LIBRARY_PATH = re.compile(r"(site-packages|dist-packages|/lib/python\d|<frozen )")


def mask_message(message: str) -> str:
    """Replace the variable parts of a message (numbers, ids, quoted and bracketed values)."""
    masked = mask_bracketed(_QUOTED.sub("#str", message[:2000]))
    for pattern, token in _MASKS:
        masked = pattern.sub(token, masked)
    return masked


def mask_bracketed(text: str) -> str:
    """Each ``[...]``, ``(...)``, ``{...}``, ``<...>`` as ``#val``, in linear time.

    What ``\\[[^\\]]*\\]|\\([^)]*\\)|...`` replaces (from the leftmost opener to the first closer of
    its kind), without its quadratic time: after an opener finds no closer, that regex tries again
    at every later opener of the kind, each time to the end of the text ("[[[[..."); here that kind
    is not looked for again, and each kind's next opener is searched for from where the last
    replacement ended, so no character is searched twice for the same thing.
    """
    parts: list[str] = []
    done = 0
    nearest = {opener: index for opener in _CLOSER if (index := text.find(opener)) >= 0}
    while nearest:
        opener = min(nearest, key=nearest.__getitem__)
        start = nearest[opener]
        end = text.find(_CLOSER[opener], start + 1)
        if end < 0:  # no closer after this opener, so none after a later one of its kind
            del nearest[opener]
            continue
        parts += (text[done:start], "#val")
        done = end + 1
        for kind, index in list(nearest.items()):
            if index < done:
                index = text.find(kind, done)
                if index < 0:
                    del nearest[kind]
                else:
                    nearest[kind] = index
    parts.append(text[done:])
    return "".join(parts)


def _top_application_frame(stacktrace: str | None) -> str:
    """The innermost stack frame in application code (not the standard library or site-packages)."""
    frames = _FRAME.findall(stacktrace or "")
    for path, function in reversed(frames):
        if not PYTHON_LIBRARY_PATH.search(path):
            return f"{path.rsplit('/', 1)[-1]}:{function}"
    return f"{frames[-1][0].rsplit('/', 1)[-1]}:{frames[-1][1]}" if frames else ""


def fingerprint(record: dict[str, Any]) -> str:
    """A stable hex hash of service, exception type, top application frame and masked message."""
    exception = record.get("exception") or {}
    parts = (
        record["service"],
        exception.get("type") or "",
        _top_application_frame(exception.get("stacktrace")),
        mask_message(record["message"]),
    )
    return digest(parts)


def digest(parts: tuple[str, ...]) -> str:
    """The fingerprint of ``parts``: 20 hex digits."""
    # The parts joined by the unit separator: a hash input, not a table key.
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=10).hexdigest()
