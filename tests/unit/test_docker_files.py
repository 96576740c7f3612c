"""docker/: the compose file parses, references files that exist, and agrees with settings.py.

There is no Docker engine here; what can be checked without one is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from logmonitor.alerts.rules import KINDS, parse_rules
from logmonitor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SETTINGS_SOURCE = (ROOT / "logmonitor" / "settings.py").read_text()
HANDLER_VARIABLES = {"LOGMONITOR_SPOOL_DIR", "LOGMONITOR_SPOOL_BYTES", "SERVICE_NAME", "HOSTNAME"}
REQUIRED = re.compile(r"^\$\{(\w+):\?.+\}$")  # compose: "${VAR:?message}" stops `up` while VAR is unset or empty
SECRETS = {"LOGMONITOR_AUTH_TOKEN": "a-token-from-env", "GRAFANA_ADMIN_PASSWORD": "a-password-from-env"}


def compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def with_secrets(environment: dict) -> dict[str, str]:
    """A service's environment as compose would pass it with SECRETS in docker/.env."""
    return {name: REQUIRED.sub(lambda m: SECRETS[m.group(1)], str(value)) for name, value in environment.items()}


def test_services_and_the_files_they_reference() -> None:
    services = compose()["services"]
    assert {"kafka", "logmonitor", "logmonitor-2", "demo", "grafana"} <= set(services)
    for name in ("logmonitor", "logmonitor-2", "demo"):
        build = services[name]["build"]
        assert (DOCKER / build["context"] / build["dockerfile"]).is_file()
    for volume in services["grafana"]["volumes"]:
        assert (DOCKER / volume.split(":")[0]).is_dir(), volume
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["grafana"]["environment"]["GF_INSTALL_PLUGINS"] == "simpod-json-datasource"


def test_the_workers_read_a_valid_rules_file_that_is_mounted() -> None:
    services = compose()["services"]
    for name in ("logmonitor", "logmonitor-2"):
        path = services[name]["environment"]["LOGMONITOR_ALERT_RULES"]
        mounts = dict(volume.rsplit(":", 2)[:2] for volume in services[name]["volumes"] if volume.startswith("./"))
        source = {target: src for src, target in mounts.items()}[path]
        config = parse_rules((DOCKER / source).read_text(), source, {})
        assert {rule.kind for rule in config.rules} == set(KINDS), "every kind, as the packaged defaults"


def test_ports_and_environment_agree_with_the_settings() -> None:
    services = compose()["services"]
    assert services["logmonitor"]["ports"] == ["5004:5004"], "the dashboard on 5004 as in the original design"
    for name in ("logmonitor", "logmonitor-2", "demo"):
        for variable in services[name]["environment"]:
            assert variable in SETTINGS_SOURCE or variable in HANDLER_VARIABLES, f"{name}: {variable} is read nowhere"
    worker = Settings.from_env({k: str(v) for k, v in services["logmonitor"]["environment"].items()})
    assert worker.web_port == 5004 and worker.bootstrap_servers == "kafka:9092"
    assert worker.advertised_host == "logmonitor" and worker.store == "rocksdb://"
    peers = {services[n]["environment"]["LOG_MONITOR_ADVERTISED_HOST"] for n in ("logmonitor", "logmonitor-2")}
    assert peers == {"logmonitor", "logmonitor-2"}, "each worker advertises its own service name"


def test_the_image_runs_as_a_user_and_checks_health() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^USER logmonitor$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/api/v1/health" in dockerfile
    assert "EXPOSE 5004" in dockerfile


def test_compose_takes_the_token_and_grafanas_password_from_env_and_refuses_without_them() -> None:
    services = compose()["services"]
    for name in ("logmonitor", "logmonitor-2", "grafana"):
        match = REQUIRED.match(services[name]["environment"]["LOGMONITOR_AUTH_TOKEN"])
        assert match and match.group(1) == "LOGMONITOR_AUTH_TOKEN", name
    match = REQUIRED.match(services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"])
    assert match and match.group(1) == "GRAFANA_ADMIN_PASSWORD"
    example = (DOCKER / ".env.example").read_text()
    assert set(re.findall(r"^(\w+)=$", example, re.M)) == set(SECRETS), "every secret listed, none filled in"
    assert set(re.findall(r"\$\{(\w+)", (DOCKER / "docker-compose.yml").read_text())) <= set(SECRETS)
    assert "docker/.env" in (ROOT / ".gitignore").read_text().split()


def test_the_workers_in_compose_start_with_the_token_and_grafana_sends_it() -> None:
    services = compose()["services"]
    for name in ("logmonitor", "logmonitor-2"):
        worker = Settings.from_env(with_secrets(services[name]["environment"]))
        assert worker.auth_token == SECRETS["LOGMONITOR_AUTH_TOKEN"] and worker.exposure_refusal() is None
    (source,) = yaml.safe_load((DOCKER / "grafana/provisioning/datasources/logmonitor.yaml").read_text())["datasources"]
    assert source["basicAuth"] is True and source["basicAuthUser"]
    assert source["secureJsonData"]["basicAuthPassword"] == "${LOGMONITOR_AUTH_TOKEN}"


def test_the_image_listens_on_every_interface_so_it_refuses_to_start_without_a_token() -> None:
    host = re.search(r"LOG_MONITOR_SERVER_HOST=(\S+)", (DOCKER / "Dockerfile").read_text())
    assert host is not None
    image = Settings.from_env({"LOG_MONITOR_SERVER_HOST": host.group(1)})
    assert "LOGMONITOR_AUTH_TOKEN" in (image.exposure_refusal() or "")


def test_the_image_and_the_makefile_install_the_constrained_versions() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^COPY .*\bconstraints\.txt\b", dockerfile, re.M)
    assert re.search(r"pip wheel .*-c constraints\.txt '\.\[server,rocksdb\]'", dockerfile)
    assert "-c constraints.txt -e '.[server,rocksdb,test,bench]'" in (ROOT / "Makefile").read_text()
