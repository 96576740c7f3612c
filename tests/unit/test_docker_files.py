"""docker/: the compose file parses, references files that exist, and agrees with settings.py.

There is no Docker engine here; what can be checked without one is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from logmonitor import __version__
from logmonitor.alerts.rules import KINDS, parse_rules
from logmonitor.ingest.settings import IngestSettings
from logmonitor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SETTINGS_SOURCE = "".join((ROOT / "logmonitor" / path).read_text() for path in ("settings.py", "ingest/settings.py"))
HANDLER_VARIABLES = {"LOGMONITOR_SPOOL_DIR", "LOGMONITOR_SPOOL_BYTES", "SERVICE_NAME", "HOSTNAME"}
REQUIRED = re.compile(r"^\$\{(\w+):\?.+\}$")  # compose: "${VAR:?message}" stops `up` while VAR is unset or empty
SECRETS = {"LOGMONITOR_AUTH_TOKEN": "a-token-from-env", "LOGMONITOR_INGEST_TOKEN": "an-ingest-token-from-env",
           "GRAFANA_ADMIN_PASSWORD": "a-password-from-env"}
OURS = ("logmonitor", "logmonitor-2", "ingest", "demo")  # the services of our image


def compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def with_secrets(environment: dict) -> dict[str, str]:
    """A service's environment as compose would pass it with SECRETS in docker/.env."""
    return {name: REQUIRED.sub(lambda m: SECRETS[m.group(1)], str(value)) for name, value in environment.items()}


def test_services_and_the_files_they_reference() -> None:
    services = compose()["services"]
    assert set(services) == {"kafka", "logmonitor", "logmonitor-2", "ingest", "demo", "grafana"}
    for name in OURS:
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
    for name in OURS:
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


def test_the_image_installs_the_built_wheel_with_the_constrained_versions() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^COPY .*\bconstraints\.txt\b", dockerfile, re.M)
    assert "python -m build --wheel" in dockerfile
    (pin,) = re.findall(r"pip install --no-cache-dir (build==\S+)", dockerfile)
    assert re.search(rf"^\s+{re.escape(pin)}$", (ROOT / "setup.cfg").read_text(), re.M), "the build the tests use"
    wheel = "/dist/logmonitor_kafka-${VERSION}-py3-none-any.whl"
    assert re.search(rf'pip wheel .*-c constraints\.txt "{re.escape(wheel)}\[server,rocksdb\]"', dockerfile)
    installed = r'"logmonitor-kafka\[server,rocksdb\]==\$\{VERSION\}"'
    assert re.search(r"pip install .*--no-index .*-c /tmp/constraints\.txt\s+\\\n\s+" + installed, dockerfile)
    assert "-c constraints.txt -e '.[server,rocksdb,test,bench]'" in (ROOT / "Makefile").read_text()


def test_the_image_carries_the_version_of_the_package_and_oci_labels() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    labels = dict(re.findall(r'org\.opencontainers\.image\.(\w+)="([^"]*)"', dockerfile))
    assert labels["version"] == "${VERSION}" and labels["source"] == "${SOURCE_URL}"
    assert {"title", "description", "licenses"} <= set(labels)
    for name in OURS:
        service = compose()["services"][name]
        assert service["build"]["args"]["VERSION"] == __version__, f"{name}: the version of logmonitor/__init__.py"
        assert service["image"] == f"logmonitor:{__version__}"


def test_every_service_has_an_image_and_publishes_the_ports_it_listens_on() -> None:
    services = compose()["services"]
    listens = {
        "logmonitor": Settings.from_env(with_secrets(services["logmonitor"]["environment"])).web_port,
        "logmonitor-2": Settings.from_env(with_secrets(services["logmonitor-2"]["environment"])).web_port,
        "ingest": IngestSettings.from_env(with_secrets(services["ingest"]["environment"])).port,
        "grafana": 3000,
    }
    for name, service in services.items():
        assert service.get("image"), f"{name}: no image"
        published = [int(mapping.rsplit(":", 1)[1]) for mapping in service.get("ports", [])]
        assert published == ([listens[name]] if name in listens else []), name
    assert services["logmonitor-2"]["ports"] == ["5005:5004"] and services["ingest"]["ports"] == ["4318:4318"]


def test_the_ingest_service_takes_its_token_from_env_and_checks_its_readiness() -> None:
    ingest = compose()["services"]["ingest"]
    assert ingest["command"] == ["ingest"]
    match = REQUIRED.match(ingest["environment"]["LOGMONITOR_INGEST_TOKEN"])
    assert match and match.group(1) == "LOGMONITOR_INGEST_TOKEN"
    settings = IngestSettings.from_env(with_secrets(ingest["environment"]))
    assert settings.host == "0.0.0.0" and settings.token == SECRETS["LOGMONITOR_INGEST_TOKEN"]
    assert settings.exposure_refusal() is None and settings.bootstrap_servers == "kafka:9092"
    probe = " ".join(ingest["healthcheck"]["test"])
    assert f"http://127.0.0.1:{settings.port}/ready" in probe
    assert ingest["depends_on"]["logmonitor"]["condition"] == "service_healthy", "the worker creates the topics"
