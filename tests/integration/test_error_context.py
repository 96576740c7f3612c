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

import orjson
import pytest

from tests.fixtures.ingest import wait_for
from tests.fixtures.worker import WorkerProcess

pytestmark = pytest.mark.integration


def run_service(worker: WorkerProcess, service: str, body: str, tmp_path: Path, handler_options: str = "",
                **env: str) -> None:
    """Run ``body`` in a fresh process whose root logger has a KafkaLogHandler for ``service``; fail if it fails."""
    script = textwrap.dedent(f"""
        import logging, sys
        from logmonitor.handler import KafkaLogHandler, log_context
        handler = KafkaLogHandler(service=sys.argv[1], spool_dir=sys.argv[2], {handler_options})
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


def test_an_error_carries_the_breadcrumbs_of_its_log_context_block_in_order_redacted_and_bounded(
        module_worker: WorkerProcess, tmp_path: Path) -> None:
    service = f"crumbs-{uuid.uuid4().hex[:8]}"
    run_service(module_worker, service, """
        log.info("service started")  # before the block: another context
        with log_context(request_id="r-42"):
            for step in range(35):
                if step == 33:
                    log.info("calling the bank with password=hunter2")
                elif step % 2:
                    log.info("step %d of the checkout", step)
                else:
                    log.debug("cache lookup %d", step)
            try:
                raise KeyError("cart-7")
            except KeyError:
                log.exception("checkout failed")
    """, tmp_path, handler_options="level=logging.DEBUG, ship_level=logging.INFO")
    [error] = errors_of(module_worker, service, 1)
    expected = [("INFO", f"step {step} of the checkout") if step % 2 else ("DEBUG", f"cache lookup {step}")
                for step in range(5, 35)]
    expected[33 - 5] = ("INFO", "calling the bank with password=[Filtered]")
    assert [(crumb["level"], crumb["message"]) for crumb in error["breadcrumbs"]] == expected, (
        "the newest 30 of the block, oldest first, DEBUG ones too, the secret redacted")
    assert {crumb["logger"] for crumb in error["breadcrumbs"]} == {"shop.checkout"}
    assert len(orjson.dumps(error["breadcrumbs"])) <= 16 * 1024 and "hunter2" not in orjson.dumps(error).decode()
    assert error["request_id"] == "r-42"
    totals = module_worker.get_json("/api/v1/logs/services")["services"]
    assert next(entry["totals"] for entry in totals if entry["name"] == service).get("DEBUG", 0) == 0, (
        "DEBUG records below ship_level are breadcrumbs only")
    [group] = module_worker.get_json("/api/v1/logs/groups", service=service)["groups"]
    [event] = module_worker.get_json(f"/api/v1/logs/groups/{group['id']}")["events"]
    assert event["breadcrumbs"] == error["breadcrumbs"], "the group's latest events show them too"
