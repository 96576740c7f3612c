"""Stable error fingerprints: one bug is one group, two bugs are two (DESIGN section 4).

Grouping has versions (``logmonitor/pipeline/grouping/``). A new version must not split the groups an
older one made: :func:`fingerprint_candidates` gives an event's fingerprint under every version,
and the router counts the event in the group of the oldest version that has one, else makes
the current version's group (``Changes.group_of``). So an event keeps going where it went
before, and only events no group holds yet are grouped the new way; each group stores the
version that made it (``grouping_version``; groups made before versions have none: 1). A service
first counted under the current version has no older groups: its events are fingerprinted under
the current version alone (the profile's ``_oldest_grouping``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from logmonitor.pipeline.grouping import message, v1, v2

__all__ = ["GROUPING_VERSION", "Candidate", "fingerprint", "fingerprint_candidates", "group_title", "mask_message"]

_VERSIONS: dict[int, Callable[[dict[str, Any]], str]] = {1: v1.fingerprint, 2: v2.fingerprint}  # oldest first
GROUPING_VERSION = max(_VERSIONS)


class Candidate(NamedTuple):
    """An event's fingerprint under one grouping version."""

    version: int
    fingerprint: str


def fingerprint_candidates(record: dict[str, Any], oldest: int = 1) -> tuple[Candidate, ...]:
    """The record's fingerprint under each version from ``oldest`` on, oldest first: the last is the current version's.

    ``oldest``: the oldest version whose groups the record's service can have (``Changes.oldest_grouping``);
    an older version's fingerprint could find no group, so it is not computed.
    """
    first = min(oldest, GROUPING_VERSION)
    return tuple([Candidate(version, fingerprint_of(record)) for version, fingerprint_of in _VERSIONS.items()
                  if version >= first])  # a list first: a generator's resumptions cost an error 0.2 us more


def fingerprint(record: dict[str, Any]) -> str:
    """The record's fingerprint under the current grouping version."""
    return _VERSIONS[GROUPING_VERSION](record)


def mask_message(text: str) -> str:
    """The message's template under the current grouping version: its variable parts masked."""
    return message.template(text)


def group_title(record: dict[str, Any]) -> str:
    """A short human title for the group: ``ExceptionType: message`` or the message."""
    exception = record.get("exception") or {}
    head = (record["message"] or exception.get("message") or "").splitlines()[0:1]
    text = head[0] if head else ""
    return f"{exception['type']}: {text}"[:200] if exception.get("type") else text[:200]
