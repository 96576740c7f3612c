"""The local development broker: durable data, --fresh, the CLI, clear errors, external clusters."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from logmonitor.dev.localkafka import LocalKafka
from logmonitor.dev.localkafka import broker as broker_module
from tests.fixtures.ports import free_port
from tests.fixtures.traffic import create_topic, produce, read_topic, topic_names


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``logmonitor <args>`` for real."""
    return subprocess.run([sys.executable, "-m", "logmonitor", *args], capture_output=True, text=True,
                          env=env if env is not None else dict(os.environ), timeout=timeout)


def test_data_survives_stop_and_start_and_fresh_wipes_it(restartable_broker: LocalKafka,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap = restartable_broker.bootstrap_servers
    asyncio.run(create_topic(bootstrap, "kept"))
    asyncio.run(produce(bootstrap, "kept", [(b"k", b"still here")]))
    assert restartable_broker.stop() is True
    assert not restartable_broker.is_running()
    restartable_broker.start()
    assert [r.value for r in asyncio.run(read_topic(bootstrap, "kept", expected=1))] == [b"still here"]

    restartable_broker.stop()
    dash_first = base64.urlsafe_b64encode(b"\xf8" + uuid.uuid4().bytes[1:]).decode().rstrip("=")
    monkeypatch.setattr(broker_module, "_cluster_id", lambda: dash_first)  # one id in 64 begins with "-"
    restartable_broker.start(fresh=True)
    assert "kept" not in asyncio.run(topic_names(bootstrap))


def test_cli_start_status_consume_logs_stop(tmp_path: Path) -> None:
    port, controller = free_port(), free_port()
    base = ("kafka", "--port", str(port), "--controller-port", str(controller), "--data-dir", str(tmp_path / "k"))
    env = {key: value for key, value in os.environ.items() if key != "KAFKA_BOOTSTRAP_SERVERS"}
    started = cli(*base, "start", env=env)
    try:
        assert started.returncode == 0, started.stderr
        assert f"127.0.0.1:{port}" in started.stdout
        status = cli(*base, "status", env=env)
        assert status.returncode == 0 and "running" in status.stdout and "ready" in status.stdout
        bootstrap = f"127.0.0.1:{port}"
        asyncio.run(create_topic(bootstrap, "application-logs-errors"))
        asyncio.run(produce(bootstrap, "application-logs-errors", [(b"booking", b'{"message": "boom"}')]))
        consumed = cli(*base, "consume", "application-logs-errors", "--from-beginning", "--max-messages", "1",
                       env=env)
        assert consumed.returncode == 0, consumed.stderr
        assert consumed.stdout.strip() == 'booking\t{"message": "boom"}'
        assert "Kafka Server started" in cli(*base, "logs", "-n", "400", env=env).stdout
    finally:
        stopped = cli(*base, "stop", env=env)
    assert stopped.stdout.strip() == "stopped"
    assert cli(*base, "status", env=env).returncode == 1
    assert cli(*base, "stop", env=env).stdout.strip() == "not running", "stop touches only a broker it started"


def _only(tmp_path: Path, *programs: str) -> str:
    """A PATH holding nothing but ``programs``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for program in programs:
        found = shutil.which(program)
        assert found, f"{program} is needed for this test"
        (bin_dir / program).symlink_to(found)
    return str(bin_dir)


def _without_kafka_env(tmp_path: Path, path: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "JAVA_HOME"}}
    return {**env, "PATH": path, "LOGMONITOR_CACHE_DIR": str(tmp_path / "empty-cache")}


def test_missing_java_or_maven_gives_one_clear_line(tmp_path: Path) -> None:
    base = ("kafka", "--port", str(free_port()), "--data-dir", str(tmp_path / "k"))
    no_java = cli(*base, "start", env=_without_kafka_env(tmp_path, _only(tmp_path)))
    java_only = tmp_path / "java-only"
    java_only.mkdir()
    no_maven = cli(*base, "start", env=_without_kafka_env(java_only, _only(java_only, "java")))
    for result, needed in ((no_java, "Java 17+"), (no_maven, "Maven")):
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert needed in lines[0] and "KAFKA_BOOTSTRAP_SERVERS" in lines[0] and "docker" in lines[0]


def test_with_an_external_cluster_nothing_local_starts(tmp_path: Path) -> None:
    data = tmp_path / "k"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "kafka.example.internal:9092"}
    result = cli("kafka", "--port", str(free_port()), "--data-dir", str(data), "start", env=env)
    assert result.returncode == 0 and "starting nothing" in result.stdout
    assert not data.exists(), "no broker state was created"
