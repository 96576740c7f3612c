"""The Grafana provisioning in docker/grafana agrees with the datasource the worker serves."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from logmonitor.read.grafana import TARGETS

GRAFANA = Path(__file__).resolve().parents[2] / "docker" / "grafana"


def test_the_datasource_points_at_the_worker_api() -> None:
    config = yaml.safe_load((GRAFANA / "provisioning/datasources/logmonitor.yaml").read_text())
    (source,) = config["datasources"]
    assert source["type"] == "simpod-json-datasource" and source["uid"] == "logmonitor"
    assert source["url"].endswith(":5004/api/v1/grafana")


def test_the_dashboard_uses_only_served_targets_and_the_provisioned_datasource() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/logmonitor.yaml").read_text())["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((GRAFANA / "dashboards/logmonitor.json").read_text())
    targets = [t for panel in dashboard["panels"] for t in panel["targets"]]
    targets += [a["target"] for a in dashboard["annotations"]["list"]]
    assert {t["target"] for t in targets} <= set(TARGETS)
    assert {"error_count", "error_by_service", "error_by_level", "error_rate", "annotations"} <= {
        t["target"] for t in targets}
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {"logmonitor"}
