"""A deadline on the worker's stop: past it, the process exits whatever still holds it.

A graceful stop commits, leaves the group and flushes the producer in well under a second; what
can hold it longer is a peer or broker that does not answer. An orchestrator kills a worker that
outlives its grace period (``docker stop``: 10 s), so the worker ends by itself first, with a line
that says so and a status of its own.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["EXIT_SHUTDOWN_OVERRUN", "exit_after"]

logger = logging.getLogger(__name__)

EXIT_SHUTDOWN_OVERRUN = os.EX_SOFTWARE  # 70: stopped, but not cleanly


def exit_after(seconds: float) -> threading.Timer:
    """Exit the process with :data:`EXIT_SHUTDOWN_OVERRUN` in ``seconds`` unless it ends before (a daemon timer)."""
    def overrun() -> None:
        logger.error("the worker did not stop within %.1f s of being asked to; exiting now (status %d)",
                     seconds, EXIT_SHUTDOWN_OVERRUN)
        logging.shutdown()
        os._exit(EXIT_SHUTDOWN_OVERRUN)

    timer = threading.Timer(seconds, overrun)
    timer.daemon = True
    timer.start()
    return timer
