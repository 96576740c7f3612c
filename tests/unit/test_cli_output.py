"""What the CLI prints: one version in one place."""

from __future__ import annotations

import configparser
import re
from importlib import metadata
from pathlib import Path

from logmonitor import __version__
from logmonitor.commands.about import version_line

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_set_once_and_the_changelog_starts_from_it() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    assert config["metadata"]["version"] == "attr: logmonitor.__version__"
    releases = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases[0] == __version__ and releases[-1] == "0.1.0"


def test_the_version_line_names_logmonitor_then_faust() -> None:
    assert version_line().startswith(f"logmonitor {__version__} (Faust {metadata.version('faust-streaming')}, ")
