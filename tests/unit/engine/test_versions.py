"""The worker starts only on the engine versions the seam was verified with, unless told otherwise."""

from __future__ import annotations

import configparser
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from logmonitor.commands import cli
from logmonitor.engine.versions import VERIFIED, installed_versions, untested_engine
from logmonitor.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
NEWER = {**VERIFIED, "faust-streaming": "0.16.0"}


def test_the_verified_versions_are_no_difference() -> None:
    assert untested_engine(dict(VERIFIED)) is None


def test_a_different_or_missing_distribution_is_named_with_the_verified_version() -> None:
    assert untested_engine(NEWER) == "faust-streaming 0.16.0 (verified: 0.15.3)"
    assert untested_engine({**VERIFIED, "aiokafka": None}) == "aiokafka missing (verified: 0.14.0)"


def test_installed_versions_asks_for_each_engine_distribution() -> None:
    def lookup(name: str) -> str:
        if name == "aiokafka":
            raise metadata.PackageNotFoundError(name)
        return "1.0"

    assert installed_versions(lookup) == {"faust-streaming": "1.0", "mode-streaming": "1.0", "aiokafka": None}


def test_setup_cfg_and_constraints_pin_exactly_the_verified_versions() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    extras = config["options.extras_require"]
    pins = dict(re.findall(r"^([\w-]+)(?:\[[\w,]+\])?==(\S+)$", extras["server"] + extras["rocksdb"], re.M))
    constraints = dict(re.findall(r"^([\w-]+)==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M))
    for name, version in VERIFIED.items():
        assert pins[name] == version and constraints[name] == version, name


def test_an_untested_engine_is_refused_with_one_line_that_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.check_engine(Settings(), NEWER)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "faust-streaming 0.16.0 (verified: 0.15.3)" in error
    assert "'faust-streaming==0.15.3'" in error and "LOGMONITOR_ALLOW_UNTESTED_ENGINE=true" in error


def test_an_untested_engine_explicitly_allowed_starts_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    cli.check_engine(Settings.from_env({"LOGMONITOR_ALLOW_UNTESTED_ENGINE": "true"}), NEWER)
    assert capsys.readouterr().err.startswith("logmonitor: warning: running on an engine")


def test_the_verified_engine_starts_silently(capsys: pytest.CaptureFixture[str]) -> None:
    cli.check_engine(Settings(), dict(VERIFIED))
    assert capsys.readouterr().err == ""


def test_the_worker_command_checks_the_installed_engine_first(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(metadata, "version", lambda name: NEWER[name])
    monkeypatch.setenv("LOG_MONITOR_SERVER_HOST", "0.0.0.0")  # refused too, but after the engine
    monkeypatch.setattr(sys, "argv", ["logmonitor", "worker", "-l", "info"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2
    assert "not the one logmonitor was verified with: faust-streaming 0.16.0" in capsys.readouterr().err
