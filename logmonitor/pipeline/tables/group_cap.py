"""The cap on error groups per service: the fingerprints a service admits, and its overflow group.

A producer that logs ever new error texts under one service makes a group per text (the
fingerprint masks numbers, ids and quoted values, not words). A service keeps at most
``LOGMONITOR_MAX_GROUPS_PER_SERVICE`` groups; the errors of any other fingerprint are counted,
all the same, in the service's overflow group (fingerprint :data:`OVERFLOW_FINGERPRINT`,
reserved, titled :data:`OVERFLOW_TITLE`), each keeping its own in ``extra.overflowed_fingerprint``.

The admitted fingerprints live in the service's profile, ``_groups: {fingerprint: [source
partition, offset] admitted}``; the profile is written at every batch that counts a record of the service, with its
watermark. So admission follows the services' rule (``service_registry.first_come``): a
function of the profile and the record's offset, the same when a batch is replayed after a
crash. Group expiry (``tables/expiry.py``) takes the expired fingerprints off the profile,
freeing their slots; a batch that ran meanwhile keeps that removal (:func:`still_admitted`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

from logmonitor.metrics import GROUPS_OVERFLOWED
from logmonitor.pipeline.tables.announcement import Announcement
from logmonitor.pipeline.tables.cells import Cell
from logmonitor.pipeline.tables.service_registry import OVERFLOW, first_come, public_name

__all__ = ["OVERFLOW_FINGERPRINT", "OVERFLOW_TITLE", "announce_overflow", "forget", "grouped_as", "still_admitted"]

OVERFLOW_FINGERPRINT = OVERFLOW
OVERFLOW_TITLE = "Other errors (group cap reached)"
_ADMITTED = "_groups"  # the profile field

_cap_reached = Announcement(logging.getLogger(__name__))


def grouped_as(profile: Cell, applied: int, fingerprint: str, offset: int, cap: int, partition: int) -> str:
    """The fingerprint the error at ``offset`` is counted under: its own, or beyond ``cap`` the overflow group's.

    Args:
        profile: the service's profile, the caller's own copy (a fingerprint admitted now is listed in it).
        applied: the last source offset the stored profile has counted (-1: none).
        fingerprint: the error's fingerprint.
        offset: the error's source offset.
        cap: the groups a service keeps.
        partition: the error's source partition (``applied`` and ``offset`` are its offsets).
    """
    admitted = first_come(profile.setdefault(_ADMITTED, {}), applied, fingerprint, offset, cap, partition)
    return fingerprint if admitted else OVERFLOW_FINGERPRINT


def still_admitted(profile: Cell, stored: Cell | None, applied: int, written: Collection[str], partition: int) -> None:
    """Drop, in place, the fingerprints expiry took off the stored profile while a batch held its copy.

    A fingerprint stays listed if ``stored`` (the profile as stored now) still lists it, the batch
    admitted it (from ``partition``, after ``applied``) or the batch writes its group (in ``written``): so every group
    the batch leaves behind is listed, and a slot expiry freed stays free.
    """
    listed: dict[str, list[int]] | None = profile.get(_ADMITTED)
    if not listed:
        return
    kept: dict[str, list[int]] = (stored or {}).get(_ADMITTED, {})
    profile[_ADMITTED] = {name: place for name, place in listed.items()
                          if name in kept or name in written or (place[0] == partition and place[1] > applied)}


def forget(profile: Cell, fingerprints: Iterable[str]) -> Cell:
    """A copy of ``profile`` without ``fingerprints`` among its admitted groups (their groups expired)."""
    gone = set(fingerprints)
    listed: dict[str, list[int]] = profile.get(_ADMITTED, {})
    return {**profile, _ADMITTED: {name: place for name, place in listed.items() if name not in gone}}


def announce_overflow(service: str, fingerprint: str, cap: int) -> None:
    """Count one error put in its service's overflow group; the first in this process is announced in one WARNING."""
    GROUPS_OVERFLOWED.inc()
    _cap_reached.once(
        "group cap reached: service %r has LOGMONITOR_MAX_GROUPS_PER_SERVICE=%d error groups; errors of any other "
        "fingerprint (first: %s) are counted in its group %r, titled %r; raise the cap if these are real, distinct "
        "errors, else fix the producer that puts variable words in its error messages",
        public_name(service)[:100], cap, fingerprint, OVERFLOW_FINGERPRINT, OVERFLOW_TITLE)
