"""The REST API under ``/api/v1/logs``: errors, stats, services, groups — from table state."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from faust.web import Request, Response

from logmonitor.levels import ERROR_LEVELS, LEVELS
from logmonitor.read.partials import PARTIALS, answer_of, error_query
from logmonitor.read.queries import error_total, merge_counts, merge_newest, merge_profiles
from logmonitor.read.releases import merge_releases, release_query
from logmonitor.timestamps import iso_timestamp
from logmonitor.web.base import ApiView
from logmonitor.web.errors import NotFound
from logmonitor.window import WINDOW_SECONDS

__all__ = ["ErrorsView", "PartialView", "ReleasesView", "ServiceErrorsView", "ServicesView", "StatsView"]


async def _summary(view: ApiView) -> tuple[dict[str, Any], int]:
    """All workers' service profiles and the invalid-record total."""
    partials = await view.gather("summary", {})
    profiles = merge_profiles(partial["profiles"] for partial in partials)
    return profiles, sum(partial["invalid_records"] for partial in partials)


async def _last_hour(view: ApiView, now: float) -> dict[str, dict[str, dict[int, int]]]:
    query = {"since": str(now - 3600 - WINDOW_SECONDS), "until": str(now + WINDOW_SECONDS)}
    return merge_counts(await view.gather("counts", query))


def _errors_since(counts: Mapping[str, Mapping[str, Mapping[int, int]]], since: float) -> int:
    return sum(
        n for levels in counts.values() for level, by_start in levels.items() if level in ERROR_LEVELS
        for start, n in by_start.items() if start >= since
    )


class ErrorsView(ApiView):
    """Recent errors of every service."""

    async def get(self, request: Request) -> Response:
        """``?limit=&service=&level=&since=&until=&q=&trace_id=&request_id=`` → ``{"errors", "count"}``, newest first.

        With ``trace_id`` (or ``request_id``): the errors of one trace, of every service, from every worker.
        """
        query = error_query(request.query)
        partials = await self.gather("errors", request.query)
        errors = merge_newest(partials, query.limit)
        return self.json({"errors": errors, "count": len(errors)})


class ServiceErrorsView(ApiView):
    """Recent errors of one service."""

    async def get(self, request: Request, service: str) -> Response:
        """``?limit=50&level=&since=&until=&q=``; 404 for a service never seen."""
        profiles, _invalid = await _summary(self)
        if service not in profiles:
            raise NotFound(f"no records of service {service[:100]!r} have been seen")
        query = error_query(request.query, service=service, default_limit=50)
        params = {**request.query, "service": service, "limit": str(query.limit)}
        errors = merge_newest(await self.gather("errors", params), query.limit)
        return self.json({"errors": errors, "count": len(errors)})


async def _stats(view: ApiView) -> dict[str, Any]:
    now = time.time()
    profiles, invalid = await _summary(view)
    by_service = {name: dict(profile["totals"]) for name, profile in sorted(profiles.items())}
    by_level = {level: sum(t.get(level, 0) for t in by_service.values()) for level in LEVELS}
    recent = await _last_hour(view, now)
    last_hour = _errors_since(recent, now - 3600)
    return {
        "total_logs": sum(by_level.values()),
        "total_errors": error_total(by_service),
        "by_service": by_service,
        "by_level": by_level,
        "errors_last_minute": _errors_since(recent, (now // WINDOW_SECONDS - 1) * WINDOW_SECONDS),
        "errors_last_hour": last_hour,
        "error_rate_per_minute": round(last_hour / 60, 3),
        "invalid_records": invalid,
        "generated_at": iso_timestamp(now),
    }


class StatsView(ApiView):
    """Totals (all time) and recent error figures (windowed tables)."""

    async def get(self, request: Request) -> Response:
        """Totals by service and level, errors in the last minute and hour, invalid records (at most 1 s old)."""
        return self.json(await self.context.answers.get("stats", lambda: _stats(self)))


class ServicesView(ApiView):
    """Every service ever seen."""

    async def get(self, request: Request) -> Response:
        """Name, first/last seen, hosts, totals by level, errors and error rate per minute (last hour)."""
        now = time.time()
        profiles, _invalid = await _summary(self)
        recent = await _last_hour(self, now)
        services = []
        for name, profile in sorted(profiles.items()):
            last_hour = _errors_since({name: recent.get(name, {})}, now - 3600)
            services.append({
                "name": name, "first_seen": profile["first_seen"], "last_seen": profile["last_seen"],
                "hosts": profile["hosts"], "totals": profile["totals"],
                "errors": error_total({name: profile["totals"]}),
                "error_rate_per_minute": round(last_hour / 60, 3),
            })
        return self.json({"services": services})


class ReleasesView(ApiView):
    """The releases of one service."""

    async def get(self, request: Request) -> Response:
        """``?service=&limit=20&after=`` → ``{"service", "releases", "count", "total", "next"}``, newest first."""
        query = release_query(request.query)
        return self.json(merge_releases(await self.gather("releases", request.query), query))


class PartialView(ApiView):
    """One worker's partial answer, for the fan-out of its peers (see cluster.py)."""

    async def get(self, request: Request, kind: str) -> Response:
        """The partial of ``kind`` for the partitions this worker owns."""
        if kind not in PARTIALS:
            raise NotFound(f"unknown partial {kind[:40]!r}")
        return self.json(await answer_of(PARTIALS[kind](self.context, request.query, self.context.owned_partitions())))
