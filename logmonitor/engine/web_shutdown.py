"""Bound how long the web server waits for requests still being handled when the worker stops.

Why: aiohttp's runner waits up to its ``shutdown_timeout`` (60 s) for every request still in
flight (a slow client's body, a long query), and Faust's aiohttp driver makes its runner without
passing one: its own ``handler_shutdown_timeout`` is never used. A worker asked to stop then
outlived ``docker stop`` (10 s) and Kubernetes' grace period (30 s), was killed, and a rolling
restart lost the clean commit and group leave (issue 24). Open live streams are ended before
this wait (``LiveErrors.close`` on the app's ``on_shutdown``); what remains is bounded here.

Verified against faust-streaming 0.15.3 (``faust/web/drivers/aiohttp.py``). It assumes: the
driver keeps its runner in ``self._runner``, made in ``__init__`` as ``AppRunner(self.web_app,
access_log=None)``, and reads it at each ``start_server`` (``setup``) and ``stop_server``
(``cleanup``), so a runner put there before the server starts is the one used.
``tests/unit/engine/test_web_shutdown.py`` checks both, and the bound on a real server.
"""

from __future__ import annotations

from typing import Any

from aiohttp.web import AppRunner

__all__ = ["bound_request_shutdown"]


def bound_request_shutdown(web: Any, seconds: float) -> None:
    """Make Faust's aiohttp ``web`` wait at most ``seconds`` for requests in flight when it stops (before it starts)."""
    web._runner = AppRunner(web.web_app, access_log=None, shutdown_timeout=seconds)
