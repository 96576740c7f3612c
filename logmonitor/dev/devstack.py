"""Everything ``make run`` starts: the local broker, a worker, an ingest server and the demo services.

Each part is a child process this module started; on Ctrl-C (or when one part dies) they
are stopped in reverse order, and the broker only if this run started it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from logmonitor.dev.localkafka import LocalKafka, LocalKafkaError, default_cache_dir, default_data_dir
from logmonitor.ingest.settings import IngestSettings
from logmonitor.settings import ConfigError

__all__ = ["DevStack", "DevStackError", "wait_for_health"]


class DevStackError(RuntimeError):
    """A part of the stack could not start; the message says which and why."""


def wait_for_health(url: str, timeout: float, still_worth_waiting: Callable[[], bool], poll: float = 0.25) -> bool:
    """Poll ``url`` every ``poll`` s until it answers 200; False on timeout or when the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and still_worth_waiting():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(poll)
    return False


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return "(no output)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log_file: Path


@dataclass
class DevStack:
    """The local development stack; ``run()`` blocks until Ctrl-C."""

    web_port: int = 5004
    demo: bool = True
    demo_rate: float = 20.0
    fresh: bool = False
    log_dir: Path = field(default_factory=lambda: default_cache_dir() / "run-logs")
    _children: list[_Child] = field(default_factory=list)
    _broker: LocalKafka | None = None

    def run(self) -> None:
        """Start everything, print where to look, and wait for Ctrl-C (or a dying part)."""
        stop = _StopSignal()
        try:
            env = self._environment()
            self._start_worker(env, stop)
            print(f"\n  logmonitor dashboard: http://127.0.0.1:{self.web_port}/", flush=True)
            print(f"  ingest (OTLP/HTTP, Loki push, NDJSON): {self._start_ingest(env, stop)}", flush=True)
            if self.demo:
                self._start_child("demo", ["demo", "--rate", str(self.demo_rate)], env)
                print("  demo services are logging through KafkaLogHandler", flush=True)
            print(f"  logs of each part: {self.log_dir}\n  Ctrl-C stops what this started.\n", flush=True)
            self._supervise(stop)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop the children in reverse order, then the broker if this run started it."""
        for child in reversed(self._children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
                try:
                    child.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
        self._children.clear()
        if self._broker is not None:
            self._broker.stop()
            print("  local Kafka stopped", flush=True)
            self._broker = None

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ, LOG_MONITOR_SERVER_PORT=str(self.web_port))
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            broker = LocalKafka(data_dir=default_data_dir())
            if broker.is_running():
                print(f"  using the local Kafka already running on {broker.bootstrap_servers}", flush=True)
            else:
                print("  starting local Kafka (the first start resolves its jars with Maven) ...", flush=True)
                try:
                    broker.start(fresh=self.fresh)
                except LocalKafkaError as error:
                    raise DevStackError(str(error)) from None
                self._broker = broker
            env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap_servers
        print(f"  Kafka: {env['KAFKA_BOOTSTRAP_SERVERS']}", flush=True)
        return env

    def _start_worker(self, env: dict[str, str], stop: _StopSignal) -> None:
        host = env.get("LOG_MONITOR_SERVER_HOST", "127.0.0.1")
        if not _port_free(host, self.web_port):
            raise DevStackError(
                f"port {self.web_port} on {host} is in use; set LOG_MONITOR_SERVER_PORT to another port"
            )
        worker = self._start_child("worker", ["worker", "-l", "info"], env)
        healthy = wait_for_health(
            f"http://127.0.0.1:{self.web_port}/api/v1/health", 180,
            lambda: worker.process.poll() is None and not stop.requested,
        )
        if not healthy and not stop.requested:
            raise DevStackError(f"the worker did not become healthy; last lines:\n{_tail(worker.log_file)}")

    def _start_ingest(self, env: dict[str, str], stop: _StopSignal) -> str:
        """Start one ingest server next to the worker; its URL."""
        try:
            settings = IngestSettings.from_env(env)
        except ConfigError as error:
            raise DevStackError(str(error)) from None
        if not _port_free(settings.host, settings.port):
            raise DevStackError(f"port {settings.port} on {settings.host} is in use; set LOGMONITOR_INGEST_PORT "
                                "to another port")
        ingest = self._start_child("ingest", ["ingest"], env)
        if not wait_for_health(f"{settings.url}/health", 60,
                               lambda: ingest.process.poll() is None and not stop.requested) and not stop.requested:
            raise DevStackError(f"the ingest server did not start; last lines:\n{_tail(ingest.log_file)}")
        return settings.url

    def _start_child(self, name: str, args: list[str], env: dict[str, str]) -> _Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{name}.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "logmonitor", *args], env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        child = _Child(name, process, log_file)
        self._children.append(child)
        return child

    def _supervise(self, stop: _StopSignal) -> None:
        while not stop.requested:
            for child in self._children:
                if child.process.poll() is not None:
                    raise DevStackError(
                        f"the {child.name} exited with code {child.process.returncode}; "
                        f"last lines:\n{_tail(child.log_file)}"
                    )
            time.sleep(0.5)
        print("\n  stopping ...", flush=True)


class _StopSignal:
    """Turns SIGINT/SIGTERM into a flag, so shutdown runs in order instead of mid-call."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, _signum: int, _frame: object) -> None:
        self.requested = True
