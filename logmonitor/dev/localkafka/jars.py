"""Resolve the Kafka broker's classpath from Maven Central into a cache outside the repo."""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from logmonitor.dev.localkafka.errors import LocalKafkaError

__all__ = ["KAFKA_VERSION", "ensure_classpath", "java_executable", "pom_path"]

KAFKA_VERSION = "4.4.0"
_ALTERNATIVES = (
    "or run Kafka with `docker compose -f docker/docker-compose.yml up -d kafka`, "
    "or set KAFKA_BOOTSTRAP_SERVERS to an existing cluster"
)


def pom_path() -> Path:
    """The pom.xml that lists the broker's runtime dependencies."""
    return Path(str(resources.files("logmonitor.dev.localkafka").joinpath("pom.xml")))


def java_executable() -> str:
    """Return the ``java`` on PATH, checking that it is version 17 or newer.

    Raises:
        LocalKafkaError: Java is missing or older than 17.
    """
    java = shutil.which("java")
    if java is None:
        raise LocalKafkaError(f"the local Kafka needs Java 17+ and none is on PATH: install a JDK 17+, {_ALTERNATIVES}")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):
        major = int(match.group(2))
    if major < 17:
        raise LocalKafkaError(
            f"the local Kafka needs Java 17+, found {java} (version {major or 'unknown'}): "
            f"install a JDK 17+, {_ALTERNATIVES}"
        )
    return java


def ensure_classpath(cache_dir: Path, version: str = KAFKA_VERSION) -> Path:
    """Return the directory holding the broker's jars, resolving them with Maven if absent.

    Args:
        cache_dir: the cache root, e.g. ``~/.cache/logmonitor``.
        version: the Kafka release; it must be the one pom.xml pins.

    Returns:
        ``<cache_dir>/kafka-<version>/libs``.

    Raises:
        LocalKafkaError: Maven is missing or the resolution failed.
    """
    libs = cache_dir / f"kafka-{version}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError(
            f"the local Kafka's jars are not cached and Maven (mvn) is not on PATH: install Maven, {_ALTERNATIVES}"
        )
    # Processes starting brokers at once (parallel tests on a clean machine) resolve one at a time:
    # each would otherwise empty the directory the other is filling.
    libs.parent.mkdir(parents=True, exist_ok=True)
    with (libs.parent / ".resolving.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            _resolve(mvn, libs, version)
            marker.touch()
    return libs


def _resolve(mvn: str, libs: Path, version: str) -> None:
    # copy-dependencies never deletes stale jars: start from an empty directory.
    shutil.rmtree(libs, ignore_errors=True)
    libs.mkdir(parents=True)
    command = [
        mvn, "-q", "-B", "-f", str(pom_path()), f"-Dkafka.version={version}",
        "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={libs}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not any(libs.glob(f"kafka_2.13-{version}.jar")):
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise LocalKafkaError(f"Maven could not resolve Kafka {version} into {libs}:\n{tail}")
