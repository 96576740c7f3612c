"""How long a reader of ``application-logs`` may keep the event loop: the router and the live record feed."""

from __future__ import annotations

import time

from logmonitor.ingest.decoded import Rejected

__all__ = ["YIELD_BYTES", "YIELD_EVERY", "Pacer"]

# Records read between turns of the event loop: 500 (~15 ms; a fetch brings up to 5,000), or fewer when
# they are large: another producer's record is redacted in full, up to ~0.4 us a byte of hostile text.
YIELD_EVERY, YIELD_BYTES = 500, 128 * 1024


class Pacer:
    """Counts the records read; their reader yields to the event loop every YIELD_EVERY records or YIELD_BYTES."""

    def __init__(self) -> None:
        self.now = time.time()  # for the timestamp sanity window (a day ahead, 30 days back)
        self._count = self._size = 0

    def done(self, value: bytes | Rejected | None) -> bool:
        """One record (``value``) read; whether it is time to let web requests in (then ``now`` is renewed)."""
        self._count += 1
        self._size += len(value.raw if isinstance(value, Rejected) else value or b"")
        if self._count >= YIELD_EVERY or self._size >= YIELD_BYTES:
            self.now, self._count, self._size = time.time(), 0, 0
            return True
        return False
