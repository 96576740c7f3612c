"""The Grafana JSON datasource protocol (classic SimpleJSON and simPod), without HTTP.

Parses what Grafana sends, tolerating its quirks (empty, ``null`` or text/plain bodies,
``hide: true`` targets, ``payload`` as ``""`` or an object, ad-hoc filters under two names),
and turns per-minute window counts into the series, tables and annotations Grafana reads.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from logmonitor.records import ERROR_LEVELS, LEVELS, epoch_of

__all__ = [
    "TARGETS", "Filter", "GrafanaQuery", "GrafanaRequestError", "Target", "annotation_events", "annotation_frame",
    "level_options", "metric_names", "parse_body", "parse_query", "payload_of", "results", "time_range",
]

TARGETS = ("error_count", "error_by_service", "error_by_level", "log_volume", "error_rate", "annotations")
WINDOW = 60
DEFAULT_RANGE = 6 * 3600
MAX_POINTS = 11_000


class GrafanaRequestError(ValueError):
    """The request cannot be answered; the message says which field is wrong."""


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object; ``{}`` for an empty or ``null`` body (any content type).

    Raises:
        GrafanaRequestError: the body is not JSON, or JSON but not an object.
    """
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GrafanaRequestError("the body is not JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise GrafanaRequestError("the body must be a JSON object")
    return body


def _iso_epoch(value: Any, name: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return value / 1000 if value > 1e11 else float(value)
    if not isinstance(value, str):
        raise GrafanaRequestError(f"range.{name} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GrafanaRequestError(f"range.{name} is not ISO 8601: {value[:40]!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def time_range(body: Mapping[str, Any], now: float | None = None) -> tuple[float, float]:
    """``range.from``..``range.to`` in epoch seconds (the last 6 hours when absent)."""
    now = time.time() if now is None else now
    window = body.get("range")
    if not isinstance(window, dict):
        return now - DEFAULT_RANGE, now
    since = _iso_epoch(window.get("from"), "from") if window.get("from") is not None else now - DEFAULT_RANGE
    until = _iso_epoch(window.get("to"), "to") if window.get("to") is not None else now
    if since > until:
        raise GrafanaRequestError("range.from must not be after range.to")
    return since, until


def _positive_number(body: Mapping[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GrafanaRequestError(f"{name} must be a number")
    try:
        number = float(value)
    except ValueError:
        raise GrafanaRequestError(f"{name} must be a number") from None
    if not math.isfinite(number) or number <= 0:
        raise GrafanaRequestError(f"{name} must be a positive number")
    return number


def _bucket_seconds(since: float, until: float, interval_ms: float | None, max_points: float | None) -> int:
    """Whole minutes, at least ``intervalMs``, with at most ``maxDataPoints`` buckets in the range."""
    wanted = max(WINDOW, (interval_ms or 0) / 1000)
    bucket = int(math.ceil(wanted / WINDOW) * WINDOW)
    limit = min(int(max_points or MAX_POINTS), MAX_POINTS)
    while len(_bucket_starts(since, until, bucket)) > limit:
        bucket += WINDOW * max(1, bucket // (WINDOW * 8))
    return bucket


def _bucket_starts(since: float, until: float, bucket: int) -> range:
    first = int(since // bucket * bucket)
    return range(first, int(until) + 1, bucket) if until > first else range(first, first + 1, bucket)


@dataclass(frozen=True)
class Filter:
    """One ad-hoc filter on ``service`` or ``level``: ``=``, ``!=``, ``=~`` or ``!~`` (regex)."""

    key: str
    operator: str
    value: str

    def accepts(self, service: str, level: str) -> bool:
        """Whether a (service, level) count passes this filter."""
        actual = service if self.key == "service" else level
        if self.operator in ("=~", "!~"):
            try:
                found = re.fullmatch(self.value, actual) is not None
            except re.error:
                raise GrafanaRequestError(f"filter {self.key} {self.operator}: bad regex") from None
            return found if self.operator == "=~" else not found
        equal = actual == (self.value.upper() if self.key == "level" else self.value)
        return equal if self.operator == "=" else not equal


def _filters(raw: Any) -> list[Filter]:
    if not isinstance(raw, list):
        return []
    found = []
    for item in raw:
        if not isinstance(item, dict) or item.get("key") not in ("service", "level"):
            continue  # unknown keys are not ours to judge
        operator = item.get("operator") or "="
        if operator not in ("=", "!=", "=~", "!~"):
            raise GrafanaRequestError(f"filter operator {operator!r} is not one of =, !=, =~, !~")
        found.append(Filter(str(item["key"]), operator, str(item.get("value", ""))))
    return found


def payload_of(target: Mapping[str, Any]) -> dict[str, Any]:
    """A simPod target's payload as an object (it arrives as ``{}``, ``""``, or a JSON string)."""
    payload = target.get("payload")
    if isinstance(payload, str) and payload.strip():
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise GrafanaRequestError("a target's payload is not JSON") from None
    return payload if isinstance(payload, dict) else {}


@dataclass(frozen=True)
class Target:
    """One visible target: what to draw, its refId, its format and its own filters."""

    name: str
    ref_id: str
    table: bool
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class GrafanaQuery:
    """A parsed ``/query`` request."""

    since: float
    until: float
    bucket: int
    targets: tuple[Target, ...]
    filters: tuple[Filter, ...]

    @property
    def bucket_starts(self) -> range:
        """The starts (epoch seconds) of the buckets covering the range."""
        return _bucket_starts(self.since, self.until, self.bucket)


def _target(raw: Mapping[str, Any]) -> Target | None:
    if raw.get("hide") is True or not isinstance(raw.get("target"), str) or raw["target"] not in TARGETS:
        return None
    payload = payload_of(raw)
    filters = [Filter(key, "=", str(payload[key])) for key in ("service", "level") if payload.get(key)]
    table = raw.get("type") == "table" or payload.get("format") == "table"
    return Target(raw["target"], str(raw.get("refId") or "A"), table, tuple(filters))


def parse_query(body: Mapping[str, Any], now: float | None = None) -> GrafanaQuery:
    """The ``/query`` request; hidden and unknown targets are dropped."""
    since, until = time_range(body, now)
    raw_targets = body.get("targets")
    targets = [t for t in (_target(raw) for raw in raw_targets if isinstance(raw, dict)) if t] if isinstance(
        raw_targets, list) else []
    bucket = _bucket_seconds(since, until, _positive_number(body, "intervalMs"), _positive_number(body,
                                                                                                  "maxDataPoints"))
    filters = _filters(body.get("adhocFilters")) + _filters(body.get("filters"))
    return GrafanaQuery(since, until, bucket, tuple(targets), tuple(filters))


Counts = Mapping[str, Mapping[str, Mapping[int, int]]]


def _selected(counts: Counts, filters: Iterable[Filter]) -> Iterable[tuple[str, str, int, int]]:
    rules = list(filters)
    for service, levels in counts.items():
        for level, by_start in levels.items():
            if all(rule.accepts(service, level) for rule in rules):
                for start, n in by_start.items():
                    yield service, level, int(start), n


def _series_key(target: str, service: str, level: str) -> str | None:
    if target == "log_volume":
        return target
    if level not in ERROR_LEVELS:
        return None
    return {"error_count": target, "error_rate": target, "error_by_service": service,
            "error_by_level": level}[target]


def results(query: GrafanaQuery, counts: Counts, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grafana's answer for every target: time series, tables or (``annotations``) data frames."""
    answer: list[dict[str, Any]] = []
    for target in query.targets:
        if target.name == "annotations":
            answer.append(annotation_frame(events, target.ref_id))
            continue
        rows = [row for row in _selected(counts, query.filters + target.filters)
                if query.bucket_starts.start <= row[2] <= query.until]
        answer.extend(_table(target, rows, query.bucket) if target.table else _series(target, rows, query))
    return answer


def _series(target: Target, rows: list[tuple[str, str, int, int]], query: GrafanaQuery) -> list[dict[str, Any]]:
    sums: dict[str, dict[int, float]] = {}
    if target.name in ("error_count", "error_rate", "log_volume"):
        sums[target.name] = {}
    for service, level, start, n in rows:
        key = _series_key(target.name, service, level)
        if key is not None:
            by_bucket = sums.setdefault(key, {})
            bucket = start // query.bucket * query.bucket
            by_bucket[bucket] = by_bucket.get(bucket, 0) + n
    per_minute = query.bucket / WINDOW if target.name == "error_rate" else 1
    return [
        {"target": key, "refId": target.ref_id,
         "datapoints": [[round(by_bucket.get(start, 0) / per_minute, 6), start * 1000]
                        for start in query.bucket_starts]}
        for key, by_bucket in sorted(sums.items())
    ]


def _table(target: Target, rows: list[tuple[str, str, int, int]], bucket: int) -> list[dict[str, Any]]:
    sums: dict[tuple[int, str, str], int] = {}
    for service, level, start, n in rows:
        if target.name == "log_volume" or level in ERROR_LEVELS:
            key = (start // bucket * bucket, service, level)
            sums[key] = sums.get(key, 0) + n
    return [{
        "type": "table", "refId": target.ref_id,
        "columns": [{"text": "Time", "type": "time"}, {"text": "service", "type": "string"},
                    {"text": "level", "type": "string"}, {"text": "count", "type": "number"}],
        "rows": [[start * 1000, service, level, n] for (start, service, level), n in sorted(sums.items())],
    }]


def annotation_events(criticals: Iterable[Mapping[str, Any]], groups: Iterable[Mapping[str, Any]],
                      alerts: Iterable[Mapping[str, Any]], since: float, until: float,
                      kinds: str = "") -> list[dict[str, Any]]:
    """CRITICAL errors, first-seen error groups and alerts in the range, oldest first.

    ``kinds`` is the annotation's query text: ``critical``, ``groups``, ``alerts``, or empty for all.
    A resolved alert is a region from its incident's start to its resolution.
    """
    kinds = kinds.strip().lower()
    events = []
    if kinds in ("", "critical"):
        for error in criticals:
            events.append({
                "time": _ms(error["timestamp"]), "title": f"CRITICAL in {error['service']}",
                "text": str(error.get("message", ""))[:500], "tags": ["critical", str(error["service"])],
            })
    if kinds in ("", "groups"):
        for group in groups:
            first = _ms(group["first_seen"])
            if since * 1000 <= first <= until * 1000:
                events.append({
                    "time": first, "title": f"new error in {group['service']}",
                    "text": str(group.get("title", ""))[:500], "tags": ["new-group", str(group["service"])],
                })
    if kinds in ("", "alerts"):
        for alert in alerts:
            at = _ms(alert["at"])
            if since * 1000 <= at <= until * 1000:
                resolved = alert["status"] == "resolved"
                events.append({
                    "time": _ms(alert["started_at"]) if resolved else at, **({"timeEnd": at} if resolved else {}),
                    "title": str(alert["title"]), "text": str(alert.get("text", ""))[:500],
                    "tags": ["alert", str(alert["rule"]), str(alert["service"]), str(alert["status"])],
                })
    return sorted(events, key=lambda event: (event["time"], event["title"], event["text"], event["tags"]))


def annotation_frame(events: list[dict[str, Any]], ref_id: str) -> dict[str, Any]:
    """Annotation events as the data frame simPod's annotation queries read."""
    return {"refId": ref_id, "fields": [
        {"name": "time", "type": "time", "values": [event["time"] for event in events]},
        {"name": "title", "type": "string", "values": [event["title"] for event in events]},
        {"name": "text", "type": "string", "values": [event["text"] for event in events]},
        {"name": "tags", "type": "other", "values": [event["tags"] for event in events]},
    ]}


def _ms(timestamp: str) -> int:
    return int(epoch_of(timestamp) * 1000)


def metric_names() -> list[dict[str, Any]]:
    """simPod's ``/metrics`` answer."""
    return [{"label": name.replace("_", " "), "value": name, "payloads": [
        {"name": "service", "label": "service", "type": "select", "reloadMetric": False},
        {"name": "level", "label": "level", "type": "select"},
        {"name": "format", "label": "format", "type": "select",
         "options": [{"label": "time series", "value": "series"}, {"label": "table", "value": "table"}]},
    ]} for name in TARGETS]


def level_options() -> list[str]:
    """All levels, for tag values and payload options."""
    return list(LEVELS)
