"""The context of an error, from a service process to a real worker's API: its release and environment.

Each service is a separate Python process with the handler, configured as a deployment would
configure it (environment variables), logging to the module's worker over the real broker.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ingest import wait_for
from tests.fixtures.worker import WorkerProcess

pytestmark = pytest.mark.integration


def run_service(worker: WorkerProcess, service: str, body: str, tmp_path: Path, **env: str) -> None:
    """Run ``body`` in a fresh process whose root logger has a KafkaLogHandler for ``service``; fail if it fails."""
    script = textwrap.dedent("""
        import logging, sys
        from logmonitor.handler import KafkaLogHandler, log_context
        handler = KafkaLogHandler(service=sys.argv[1], spool_dir=sys.argv[2])
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.DEBUG)
        log = logging.getLogger("shop.checkout")
    """) + textwrap.dedent(body) + "\nhandler.close()\n"
    process_env = {**worker.env, "LOGMONITOR_RELEASE": "", "LOGMONITOR_ENVIRONMENT": "",
                   "OTEL_RESOURCE_ATTRIBUTES": "", **env}
    finished = subprocess.run([sys.executable, "-c", script, service, str(tmp_path / f"spool-{service}")],
                              env=process_env, capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr


def errors_of(worker: WorkerProcess, service: str, count: int) -> list[dict[str, Any]]:
    """The service's errors once the worker shows ``count`` of them, oldest first."""
    errors = wait_for(lambda: worker.get_json(f"/api/v1/logs/errors/{service}")["errors"],
                      lambda found: len(found) >= count)
    return list(reversed(errors))


def test_a_service_names_its_release_and_environment_by_environment_variables(
        module_worker: WorkerProcess, tmp_path: Path) -> None:
    service = f"env-{uuid.uuid4().hex[:8]}"
    run_service(module_worker, service, 'log.error("charge failed")', tmp_path, LOGMONITOR_RELEASE="2.4.1",
                OTEL_RESOURCE_ATTRIBUTES="service.version=9.9,deployment.environment.name=prod%2Deu")
    [error] = errors_of(module_worker, service, 1)
    assert (error["release"], error["environment"]) == ("2.4.1", "prod-eu"), "LOGMONITOR_RELEASE wins over OTel's"
