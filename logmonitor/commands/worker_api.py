"""A client of a running worker's REST API for the terminal commands (``tail``, ``groups``); standard library only.

Every way a request can fail becomes an :class:`ApiError` whose text is one line saying what to do next:
no worker at the URL, a token missing or refused, an unknown id, a refusal with the worker's own detail.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["DEFAULT_URL", "ApiError", "NotFoundError", "ServerEvent", "WorkerApi"]

DEFAULT_URL = "http://127.0.0.1:5004"
TIMEOUT_SECONDS = 30.0  # a request's; a live stream waits longer between events (its pings come every 15 s)
STREAM_TIMEOUT_SECONDS = 60.0


class ApiError(Exception):
    """A request that did not get the answer it asked for; ``str()`` is one line for the user."""


class NotFoundError(ApiError):
    """404: the id (or the route) is unknown to the worker."""


@dataclass(frozen=True)
class ServerEvent:
    """One Server-Sent Event: its ``event:`` name and its ``data:`` text."""

    event: str
    data: str


class WorkerApi:
    """Requests to the worker at ``url`` with ``Authorization: Bearer <token>`` when a token is given."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.token = token or None

    def get(self, path: str, **query: str | int | None) -> Any:
        """GET ``path`` with the ``query`` parameters that are not None; the decoded JSON answer."""
        with self._open(self._request(path, query), TIMEOUT_SECONDS) as response:
            return orjson.loads(response.read())

    def patch(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """PATCH ``body`` as JSON; the status (200 applied, 202 pending) and the decoded answer."""
        request = self._request(path, {}, method="PATCH", data=orjson.dumps(body))
        request.add_header("Content-Type", "application/json")
        with self._open(request, TIMEOUT_SECONDS) as response:
            return int(response.status), orjson.loads(response.read())

    def events(self, path: str, **query: str | int | None) -> Iterator[ServerEvent]:
        """The events of a Server-Sent Events stream until the worker ends it or the connection is lost (comments
        and retries skipped); a worker that does not answer at all is an :class:`ApiError`."""
        request = self._request(path, query)
        request.add_header("Accept", "text/event-stream")
        with self._open(request, STREAM_TIMEOUT_SECONDS) as response:
            try:
                yield from _events_of(response)
            except (OSError, http.client.HTTPException):
                return  # lost (reset, or silent past the pings): the caller connects again

    def _request(self, path: str, query: dict[str, str | int | None], method: str = "GET",
                 data: bytes | None = None) -> urllib.request.Request:
        given = {name: value for name, value in query.items() if value is not None}
        url = self.url + path + (f"?{urllib.parse.urlencode(given)}" if given else "")
        request = urllib.request.Request(url, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        return request

    def _open(self, request: urllib.request.Request, timeout: float) -> Any:
        try:
            return urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(f"no logmonitor worker answers at {self.url} ({reason}): start one with `logmonitor "
                           "worker` (or `make run`), or set LOGMONITOR_URL to where one listens") from None

    def _refusal(self, error: urllib.error.HTTPError) -> ApiError:
        try:
            answer = orjson.loads(error.read())
            code, detail = str(answer.get("error", "")), str(answer.get("detail", ""))
        except (orjson.JSONDecodeError, AttributeError, OSError):
            code, detail = "", ""
        if error.code == 401:
            if self.token:
                return ApiError(f"the worker at {self.url} refused the token: set LOGMONITOR_AUTH_TOKEN to the "
                                "worker's own")
            return ApiError(f"the worker at {self.url} needs a token: set LOGMONITOR_AUTH_TOKEN")
        if error.code == 404:
            return NotFoundError(detail or f"{self.url} has no such route: is it a logmonitor worker?")
        what = f"{code}: {detail}" if code else (detail or str(error.reason))
        return ApiError(f"the worker at {self.url} answered {error.code} ({what})")


def _events_of(response: Any) -> Iterator[ServerEvent]:
    """The events of a ``text/event-stream`` body, one line at a time."""
    event, data = "message", list[str]()
    for raw in response:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data:
                yield ServerEvent(event, "\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
