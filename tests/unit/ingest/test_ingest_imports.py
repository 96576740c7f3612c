"""The ingest server runs without the worker: nothing it imports builds the Faust app."""

from __future__ import annotations

import subprocess
import sys


def test_the_ingest_server_and_its_command_import_no_faust() -> None:
    code = ("import sys, logmonitor.ingest.server, logmonitor.commands.ingest; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'faust', 'mode'}), "
            "'logmonitor.server.app' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[] False"
