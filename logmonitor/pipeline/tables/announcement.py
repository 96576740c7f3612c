"""A bound reached, said once: the first overflow of a cap is one WARNING line per process, not one per record."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["Announcement"]


class Announcement:
    """A WARNING that :meth:`once` logs the first time it is called in this process, and never again."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._said = False

    def once(self, message: str, *args: Any) -> None:
        """Log ``message % args`` as a WARNING, unless this announcement was made already."""
        if not self._said:
            self._said = True
            self._logger.warning(message, *args)
