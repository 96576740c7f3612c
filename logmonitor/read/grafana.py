"""The Grafana JSON datasource protocol (classic SimpleJSON and simPod), without HTTP.

Parses what Grafana sends, tolerating its quirks (empty, ``null`` or text/plain bodies,
``hide: true`` targets, ``payload`` as ``""`` or an object, ad-hoc filters under two names),
and turns per-minute window counts into the series, tables and annotations Grafana reads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from logmonitor.levels import ERROR_LEVELS, LEVELS
from logmonitor.timestamps import LATEST, TimeParamError, epoch_of, parse_time_param
from logmonitor.user_pattern import UserPattern, UserPatternError, compile_user_pattern
from logmonitor.window import WINDOW_SECONDS

__all__ = [
    "TARGETS", "Filter", "GrafanaQuery", "GrafanaRequestError", "Target", "annotation_events", "annotation_frame",
    "level_options", "metric_names", "parse_body", "parse_query", "payload_of", "results", "time_range",
]

TARGETS = ("error_count", "error_by_service", "error_by_level", "log_volume", "error_rate", "annotations")
WINDOW = int(WINDOW_SECONDS)  # buckets are whole seconds
DEFAULT_RANGE = 6 * 3600
MAX_POINTS = 11_000
MAX_DATA_POINTS = 1e9  # what Grafana may ask for; each series gets at most MAX_POINTS
MAX_TARGETS = 50  # each target is a pass over the counts in range
MAX_FILTERS = 10  # each regex filter is compiled by RE2: up to tens of milliseconds for 256 characters


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


def _range_end(window: Mapping[str, Any], name: str, default: float) -> float:
    if window.get(name) is None:
        return default
    try:
        return parse_time_param(window[name], f"range.{name}")
    except TimeParamError as error:
        raise GrafanaRequestError(str(error)) from None


def time_range(body: Mapping[str, Any], now: float | None = None) -> tuple[float, float]:
    """``range.from``..``range.to`` in epoch seconds (the last 6 hours when absent)."""
    now = time.time() if now is None else now
    window = body.get("range")
    if not isinstance(window, dict):
        return now - DEFAULT_RANGE, now
    since, until = _range_end(window, "from", now - DEFAULT_RANGE), _range_end(window, "to", now)
    if since > until:
        raise GrafanaRequestError("range.from must not be after range.to")
    return since, until


def _bounded_number(body: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    too_long = isinstance(value, str) and len(value) > 40
    if too_long or isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GrafanaRequestError(f"{name} must be a number")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise GrafanaRequestError(f"{name} must be a number") from None
    if not low <= number <= high:  # also refuses NaN
        raise GrafanaRequestError(f"{name} must be between {low:g} and {high:g}")
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
    """One ad-hoc filter on ``service`` or ``level``: ``=``, ``!=``, ``=~`` or ``!~`` (a regex, run by RE2)."""

    key: str
    operator: str
    value: str
    pattern: UserPattern | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, key: str, operator: str, value: str) -> Filter:
        """The filter, its regex compiled for ``=~`` and ``!~``.

        Raises:
            GrafanaRequestError: the regex is too long or not one RE2 accepts.
        """
        if operator not in ("=~", "!~"):
            return cls(key, operator, value)
        try:
            return cls(key, operator, value, compile_user_pattern(value))
        except UserPatternError as error:
            raise GrafanaRequestError(f"filter {key} {operator}: {error}") from None

    def accepts(self, service: str, level: str) -> bool:
        """Whether a (service, level) count passes this filter (a regex must match the whole value)."""
        actual = service if self.key == "service" else level
        if self.pattern is not None:
            found = self.pattern.fullmatch(actual) is not None
            return found if self.operator == "=~" else not found
        equal = actual == (self.value.upper() if self.key == "level" else self.value)
        return equal if self.operator == "=" else not equal


def _listed(body: Mapping[str, Any], name: str, limit: int) -> list[Any]:
    """The list under ``name`` (``[]`` when it is not a list), of at most ``limit`` items."""
    items = body.get(name)
    if not isinstance(items, list):
        return []
    if len(items) > limit:
        raise GrafanaRequestError(f"{name} has {len(items):,} items, more than {limit}")
    return items


def _filters(raw: list[Any]) -> list[Filter]:
    found = []
    for item in raw:
        if not isinstance(item, dict) or item.get("key") not in ("service", "level"):
            continue  # unknown keys are not ours to judge
        operator = item.get("operator") or "="
        if operator not in ("=", "!=", "=~", "!~"):
            raise GrafanaRequestError(f"filter operator {str(operator)[:20]!r} is not one of =, !=, =~, !~")
        found.append(Filter.parse(str(item["key"]), operator, str(item.get("value", ""))))
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
    targets = [t for t in (_target(raw) for raw in _listed(body, "targets", MAX_TARGETS) if isinstance(raw, dict)) if t]
    bucket = _bucket_seconds(since, until, _bounded_number(body, "intervalMs", 1, LATEST * 1000),
                             _bounded_number(body, "maxDataPoints", 1, MAX_DATA_POINTS))
    filters = _filters(_listed(body, "adhocFilters", MAX_FILTERS)) + _filters(_listed(body, "filters", MAX_FILTERS))
    return GrafanaQuery(since, until, bucket, tuple(targets), tuple(filters))


Counts = Mapping[str, Mapping[str, Mapping[int, int]]]
Row = tuple[str, str, int, int]
"""One count: service, level, window start (epoch seconds), number of records."""


def _selected(counts: Counts, filters: Iterable[Filter]) -> Iterable[Row]:
    """The counts of every (service, level) that passes the query's filters, each filter run once per pair."""
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


def results(query: GrafanaQuery, counts: Counts, events: list[dict[str, Any]],
            max_values: int) -> list[dict[str, Any]]:
    """Grafana's answer for every target: time series, tables or (``annotations``) data frames.

    Raises:
        GrafanaRequestError: the answer would hold more than ``max_values`` values (points of all
            series, table rows and annotations); nothing large is built before that is known.
    """
    rows = [row for row in _selected(counts, query.filters) if query.bucket_starts.start <= row[2] <= query.until]
    kinds = [_kind(target) for target in query.targets]
    series_sums: dict[tuple[str, tuple[Filter, ...]], dict[str, dict[int, int]]] = {}
    table_sums: dict[tuple[str, tuple[Filter, ...]], dict[tuple[int, str, str], int]] = {}
    for kind, target in zip(kinds, query.targets, strict=True):  # a target repeated (50 times, say) is summed once
        same = (target.name, target.filters)
        if kind == "series" and same not in series_sums:
            series_sums[same] = _series_sums(target, rows, query.bucket)
        elif kind == "table" and same not in table_sums:
            table_sums[same] = _table_sums(target, rows, query.bucket)
    series = {i: series_sums[target.name, target.filters]
              for i, target in enumerate(query.targets) if kinds[i] == "series"}
    tables = {i: table_sums[target.name, target.filters]
              for i, target in enumerate(query.targets) if kinds[i] == "table"}
    size = (sum(len(sums) for sums in series.values()) * len(query.bucket_starts)
            + sum(len(sums) for sums in tables.values()) + kinds.count("annotations") * len(events))
    if size > max_values:
        raise GrafanaRequestError(
            f"the answer would hold {size:,} values (series x points, table rows, annotations), more than "
            f"{max_values:,}: shorten the range, raise intervalMs, lower maxDataPoints or filter the services")
    answer: list[dict[str, Any]] = []
    for i, target in enumerate(query.targets):
        if i in series:
            answer.extend(_series(target, series[i], query))
        elif i in tables:
            answer.append(_table(target, tables[i]))
        else:
            answer.append(annotation_frame(events, target.ref_id))
    return answer


def _kind(target: Target) -> str:
    if target.name == "annotations":
        return "annotations"
    return "table" if target.table else "series"


def _series_sums(target: Target, rows: list[Row], bucket: int) -> dict[str, dict[int, int]]:
    """Counts per series and bucket start: one series per service or level, or one in all."""
    sums: dict[str, dict[int, int]] = {}
    if target.name in ("error_count", "error_rate", "log_volume"):
        sums[target.name] = {}
    for service, level, start, n in _own(target, rows):
        key = _series_key(target.name, service, level)
        if key is not None:
            by_bucket = sums.setdefault(key, {})
            start = start // bucket * bucket
            by_bucket[start] = by_bucket.get(start, 0) + n
    return sums


def _series(target: Target, sums: dict[str, dict[int, int]], query: GrafanaQuery) -> list[dict[str, Any]]:
    return [
        {"target": key, "refId": target.ref_id,
         "datapoints": [[values.get(start, 0), start * 1000] for start in query.bucket_starts]}
        for key, values in ((key, _values(target, by_bucket, query.bucket)) for key, by_bucket in sorted(sums.items()))
    ]


def _values(target: Target, by_bucket: dict[int, int], bucket: int) -> Mapping[int, float]:
    """A series' values by bucket start: counts, or for ``error_rate`` errors per minute (empty buckets are 0)."""
    if target.name != "error_rate":
        return by_bucket
    return {start: round(n * WINDOW / bucket, 6) for start, n in by_bucket.items()}


def _table_sums(target: Target, rows: list[Row], bucket: int) -> dict[tuple[int, str, str], int]:
    sums: dict[tuple[int, str, str], int] = {}
    for service, level, start, n in _own(target, rows):
        if target.name == "log_volume" or level in ERROR_LEVELS:
            key = (start // bucket * bucket, service, level)
            sums[key] = sums.get(key, 0) + n
    return sums


def _table(target: Target, sums: dict[tuple[int, str, str], int]) -> dict[str, Any]:
    return {
        "type": "table", "refId": target.ref_id,
        "columns": [{"text": "Time", "type": "time"}, {"text": "service", "type": "string"},
                    {"text": "level", "type": "string"}, {"text": "count", "type": "number"}],
        "rows": [[start * 1000, service, level, n] for (start, service, level), n in sorted(sums.items())],
    }


def _own(target: Target, rows: list[Row]) -> Iterable[Row]:
    """The rows that pass the target's own filters (plain ``=`` on service and level)."""
    if not target.filters:
        return rows
    return (row for row in rows if all(rule.accepts(row[0], row[1]) for rule in target.filters))


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
