"""The release artefacts as a user gets them: built, checked, installed by the README's own lines in fresh virtualenvs.

The most expensive module of the suite's kind: one build per run (sdist and wheel), two virtualenvs
whose packages come from pip's cache after the first run.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
import uuid
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
import pytest

from logmonitor import __version__
from tests.fixtures.traffic import create_topic, read_topic

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WHEEL = f"logmonitor_kafka-{__version__}-py3-none-any.whl"
SDIST = f"logmonitor_kafka-{__version__}.tar.gz"
INSTALL_SECONDS = 600  # a cold pip cache downloads the server's ~60 distributions


@dataclass(frozen=True)
class Release:
    """Where the module's build put its artefacts: ``directory/dist/``, the README's lines' relative path."""

    directory: Path

    @property
    def dist(self) -> Path:
        return self.directory / "dist"


def run(args: list[str], cwd: Path, timeout: float = INSTALL_SECONDS, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``args``; fail with its output when it fails."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **env}, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """``python -m build`` of the tree, once for the module."""
    built = Release(tmp_path_factory.mktemp("release"))
    run([sys.executable, "-m", "build", "--outdir", str(built.dist), str(ROOT)], cwd=built.directory)
    return built


def readme_install_lines() -> list[str]:
    """The README's ``pip install`` lines that install the built wheel, comments cut."""
    lines = [line.split("#")[0].strip() for line in (ROOT / "README.md").read_text().splitlines()
             if line.startswith("pip install")]
    return [line for line in lines if "dist/" in line]


def fresh_venv(where: Path) -> dict[str, str]:
    """A new virtualenv (with pip); the environment whose ``pip`` and ``python`` are its own."""
    run([sys.executable, "-m", "venv", str(where)], cwd=where.parent, timeout=120)
    return {"PATH": f"{where / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(where)}


def test_the_sdist_and_wheel_pass_twine_check_strict_and_hold_the_package_only(release: Release) -> None:
    assert sorted(path.name for path in release.dist.iterdir()) == sorted([WHEEL, SDIST])
    checked = run([sys.executable, "-m", "twine", "check", "--strict", *map(str, release.dist.iterdir())],
                  cwd=release.directory, timeout=120)
    assert checked.stdout.count("PASSED") == 2, checked.stdout
    with zipfile.ZipFile(release.dist / WHEEL) as wheel:
        names = wheel.namelist()
        meta = wheel.read(f"logmonitor_kafka-{__version__}.dist-info/METADATA").decode()
    assert {name.split("/")[0] for name in names} == {"logmonitor", f"logmonitor_kafka-{__version__}.dist-info"}
    assert "logmonitor/web/static/dashboard.js" in names and "logmonitor/py.typed" in names
    assert f"Name: logmonitor-kafka\nVersion: {__version__}\n" in meta
    assert {"server", "rocksdb"} <= set(re.findall(r"^Provides-Extra: (\S+)$", meta, re.M))
    handler_needs = {line.split()[1].split("<")[0].split(">")[0] for line in meta.splitlines()
                     if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert handler_needs == {"confluent-kafka", "orjson"}, "the default install is the handler only"


def test_the_handler_install_imports_no_engine_and_ships_a_record(release: Release, kafka_broker: Any,
                                                                  tmp_path: Path) -> None:
    env = fresh_venv(tmp_path / "handler-venv")
    (line,) = [line for line in readme_install_lines() if "[" not in line]
    run(["sh", "-c", line], cwd=release.directory, **env)
    topic, service = f"release-logs-{uuid.uuid4().hex[:8]}", f"release-{uuid.uuid4().hex[:6]}"
    asyncio.run(create_topic(kafka_broker.bootstrap_servers, topic))
    script = textwrap.dedent(f"""
        import logging, sys
        from logmonitor.handler import KafkaLogHandler
        handler = KafkaLogHandler({kafka_broker.bootstrap_servers!r}, service={service!r}, topic={topic!r},
                                  spool_dir={str(tmp_path / "spool")!r})
        logging.getLogger("release").addHandler(handler)
        logging.getLogger("release").error("shipped from the wheel")
        handler.close()
        print(sorted(m for m in ("faust", "mode", "aiokafka", "aiohttp", "click") if m in sys.modules))
    """)
    shipped = run(["python", "-c", script], cwd=tmp_path, timeout=120, **env)  # not the tree: the installed package
    assert shipped.stdout.strip() == "[]", "the handler install imports none of the engine"
    (record,) = asyncio.run(read_topic(kafka_broker.bootstrap_servers, topic, 1))
    value = orjson.loads(record.value)
    assert (record.key, value["service"], value["message"]) == (service.encode(), service, "shipped from the wheel")
    version = run(["logmonitor", "--version"], cwd=tmp_path, timeout=60, **env)
    assert version.stdout.strip().startswith(f"logmonitor {__version__} (handler only: no Faust, Python ")
    refused = subprocess.run(["logmonitor", "tail"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             env={**os.environ, **env})
    assert refused.returncode == 2 and "server extra" in refused.stderr and "Traceback" not in refused.stderr


def test_the_server_install_runs_logmonitor(release: Release, tmp_path: Path) -> None:
    env = fresh_venv(tmp_path / "server-venv")
    (line,) = [line for line in readme_install_lines() if "[server]" in line]
    run(["sh", "-c", line], cwd=release.directory, **env)
    version = run(["logmonitor", "--version"], cwd=tmp_path, timeout=60, **env)
    faust = metadata.version("faust-streaming")
    assert version.stdout.strip().startswith(f"logmonitor {__version__} (Faust {faust}, Python ")
    shown = run(["logmonitor", "--help"], cwd=tmp_path, timeout=60, **env)
    assert "Faust's own commands" in shown.stdout and "  groups " in shown.stdout
