"""How long a reader of ``application-logs`` may keep the event loop: the router and the live record feed."""

from __future__ import annotations

import time

from logmonitor.ingest.decoded import Rejected

__all__ = ["YIELD_BYTES", "YIELD_EVERY", "Pacer", "size_of"]

# Records read between turns of the event loop: 500 (~15 ms; a fetch brings up to 5,000), or fewer when
# they are large: another producer's record is redacted in full, up to ~0.4 us a byte of hostile text.
YIELD_EVERY, YIELD_BYTES = 500, 128 * 1024


def size_of(value: bytes | Rejected | None) -> int:
    """The bytes of a record as read: its value, or what a rejected one held."""
    return len(value.raw if isinstance(value, Rejected) else value or b"")


class Pacer:
    """Counts the records read; their reader yields to the event loop every YIELD_EVERY records or YIELD_BYTES."""

    def __init__(self) -> None:
        self.now = time.time()  # for the timestamp sanity window (a day ahead, 30 days back)
        self._records, self._bytes = YIELD_EVERY, YIELD_BYTES  # left until the next turn

    def done(self, size: int) -> bool:
        """One record of ``size`` bytes read; whether it is time to let web requests in (then ``now`` is renewed)."""
        self._records -= 1
        self._bytes -= size
        if self._records > 0 and self._bytes > 0:
            return False
        self.now, self._records, self._bytes = time.time(), YIELD_EVERY, YIELD_BYTES
        return True
