"""The one module of log levels, shared by the handler and the server."""

from __future__ import annotations

import logging
import subprocess
import sys

from logmonitor.levels import LEVEL_RANK, LEVELS, level_name, level_of_severity_number


def test_ranks_are_the_spooled_numbers() -> None:
    assert LEVEL_RANK == {"DEBUG": 0, "INFO": 1, "WARNING": 2, "ERROR": 3, "CRITICAL": 4}
    assert [LEVELS[rank] for rank in LEVEL_RANK.values()] == list(LEVELS)


def test_logging_levels_round_down() -> None:
    assert [level_name(n) for n in (0, 5, 10, 20, 25, 30, 40, 45, 50, 60)] == [
        "DEBUG", "DEBUG", "DEBUG", "INFO", "INFO", "WARNING", "ERROR", "ERROR", "CRITICAL", "CRITICAL"]
    assert level_name(logging.WARNING) == "WARNING"


def test_opentelemetry_severity_numbers() -> None:
    assert [level_of_severity_number(n) for n in (1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24)] == [
        "DEBUG", "DEBUG", "DEBUG", "DEBUG", "INFO", "INFO", "WARNING", "WARNING", "ERROR", "ERROR",
        "CRITICAL", "CRITICAL"]


def test_the_handler_imports_nothing_of_the_server() -> None:
    """The handler is installed without faust or aiohttp: importing it (and the levels) must not need them."""
    code = ("import sys, logmonitor.handler, logmonitor.levels; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'faust', 'mode', 'aiokafka', 'aiohttp'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
