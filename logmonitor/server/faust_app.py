"""The app for Faust's own command line: ``faust -A logmonitor.server.faust_app worker``.

Faust's CLI finds an app as a module attribute, so this is the one module that builds an app
when imported; ``logmonitor worker`` does not import it (it calls the factory itself).
"""

from __future__ import annotations

from logmonitor.server.app import create_app
from logmonitor.settings import Settings

__all__ = ["app"]

app = create_app(Settings.from_env())
