"""A real single-node KRaft Kafka broker (combined broker and controller) for development and tests."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from logmonitor.broker_probe import answers_metadata, wait_for_metadata
from logmonitor.dev.localkafka.errors import LocalKafkaError
from logmonitor.dev.localkafka.jars import KAFKA_VERSION, ensure_classpath, java_executable

__all__ = ["LocalKafka", "default_cache_dir", "default_data_dir"]

_LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
"""


def _cluster_id() -> str:
    """A new KRaft cluster id, in the URL-safe base64 form Kafka's StorageTool makes."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie awaiting its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def default_cache_dir() -> Path:
    """``$LOGMONITOR_CACHE_DIR`` or ``~/.cache/logmonitor``: where the jars are cached."""
    return Path(os.environ.get("LOGMONITOR_CACHE_DIR") or Path.home() / ".cache" / "logmonitor")


def default_data_dir() -> Path:
    """``$LOGMONITOR_KAFKA_DATA_DIR`` or ``<cache>/local-broker``: the dev broker's durable state."""
    return Path(os.environ.get("LOGMONITOR_KAFKA_DATA_DIR") or default_cache_dir() / "local-broker")


@dataclass
class LocalKafka:
    """One broker process whose state lives in ``data_dir``.

    The pid file makes ``stop()`` stop only the broker this tooling started; the data
    (KRaft metadata and topic logs) survives stop and start until ``fresh=True``.
    """

    data_dir: Path
    port: int = 9092
    controller_port: int = 9093
    heap: str = "512m"
    cache_dir: Path | None = None
    version: str = KAFKA_VERSION

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:<port>``: the only address the broker listens on for clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log4j2)."""
        return self.data_dir / "logs" / "server.log"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def _console_file(self) -> Path:
        return self.data_dir / "logs" / "console.out"

    @property
    def _log_dirs(self) -> Path:
        return self.data_dir / "kraft-logs"

    def pid(self) -> int | None:
        """The pid of the running broker this data directory belongs to, if any."""
        try:
            pid = int(self._pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return None
        # A recycled pid belongs to some other process: only ours names our config file.
        return pid if str(self._config_file) in cmdline else None

    def is_running(self) -> bool:
        """Whether our broker process is alive."""
        return self.pid() is not None

    def status(self) -> str:
        """A one-line human status."""
        pid = self.pid()
        if pid is None:
            return f"stopped (data in {self.data_dir})"
        state = "ready" if answers_metadata(self.bootstrap_servers, timeout=2.0) else "not answering"
        return f"running, pid {pid}, {state} on {self.bootstrap_servers} (data in {self.data_dir})"

    def start(self, *, fresh: bool = False, timeout: float = 90.0) -> None:
        """Start the broker and return once it answers metadata requests.

        Args:
            fresh: wipe the stored topics and metadata first.
            timeout: seconds to wait for readiness.

        Raises:
            LocalKafkaError: Java/Maven missing, or the broker did not become ready; the
                message carries the last lines of the broker log.
        """
        if self.is_running():
            if fresh:
                raise LocalKafkaError(f"the broker in {self.data_dir} is running; stop it before --fresh")
            return
        java = java_executable()
        libs = ensure_classpath(self.cache_dir or default_cache_dir(), self.version)
        if fresh:
            self._wipe()
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._write_config()
        if not (self._log_dirs / "meta.properties").exists():
            self._format_storage(java, libs)
        process = self._spawn(java, libs)
        alive = lambda: process.poll() is None  # noqa: E731
        if not wait_for_metadata(self.bootstrap_servers, timeout, still_worth_waiting=alive):
            tail = self.log_tail()
            self.stop()
            raise LocalKafkaError(
                f"Kafka did not answer on {self.bootstrap_servers} within {timeout:.0f}s; "
                f"last lines of {self.log_file}:\n{tail}"
            )

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop our broker gracefully (SIGTERM, then SIGKILL after ``timeout`` s).

        Returns:
            True when a broker was running and has stopped.
        """
        pid = self.pid()
        if pid is None:
            self._pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self._pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the broker log and its console output."""
        chunks = []
        for path in (self.log_file, self._console_file):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                chunks.append("\n".join(text))
        return "\n".join(chunks) or "(the broker wrote no log)"

    @property
    def _config_file(self) -> Path:
        return self.data_dir / "server.properties"

    def _write_config(self) -> None:
        listeners = f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": listeners,
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self._log_dirs),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "min.insync.replicas": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.check.interval.ms": "30000",
        }
        self._config_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        (self.data_dir / "log4j2.properties").write_text(_LOG4J2.format(log_file=self.log_file))

    def _java_command(self, java: str, libs: Path, main: str, *args: str) -> list[str]:
        return [
            java, f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.data_dir / 'logs'}",
            "-cp", f"{libs}/*", main, *args,
        ]

    def _format_storage(self, java: str, libs: Path) -> None:
        command = self._java_command(
            java, libs, "kafka.tools.StorageTool", "format", "--standalone",
            f"--cluster-id={_cluster_id()}", "-c", str(self._config_file),  # "=": an id may begin with "-"
        )
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalKafkaError(f"formatting {self._log_dirs} failed:\n{result.stdout}{result.stderr}")

    def _spawn(self, java: str, libs: Path) -> subprocess.Popen[bytes]:
        command = self._java_command(java, libs, "kafka.Kafka", str(self._config_file))
        with self._console_file.open("ab") as console:
            process = subprocess.Popen(
                command, stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=self.data_dir,
            )
        self._pid_file.write_text(str(process.pid))
        return process

    def _wipe(self) -> None:
        shutil.rmtree(self._log_dirs, ignore_errors=True)
        shutil.rmtree(self.data_dir / "logs", ignore_errors=True)
