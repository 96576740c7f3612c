"""``logmonitor groups``: list error groups, show one, resolve, ignore or reopen it (``/api/v1/logs/groups``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from logmonitor.commands.terminal import CommandError, aligned, api_of, echo_json, json_option, printable, url_option
from logmonitor.commands.worker_api import ApiError, NotFoundError, WorkerApi
from logmonitor.triage.commands import MAX_REASON

__all__ = ["groups"]

GROUPS_PATH = "/api/v1/logs/groups"
STATUSES = ("unresolved", "new", "regressed", "escalating", "resolved", "ignored")
SORTS = ("last_seen", "first_seen", "count", "trend")


def _ask(action: Any) -> Any:
    """Run ``action``; an unknown group or a failed request is one line."""
    try:
        return action()
    except NotFoundError as error:
        raise CommandError(f"{error}; `logmonitor groups` lists the groups and their ids") from None
    except ApiError as error:
        raise CommandError(str(error)) from None


@click.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only groups with this status.")
@click.option("--service", default=None, help="Only this service's groups.")
@click.option("--search", "q", default=None, help="Only groups whose title, exception, logger or service holds TEXT.")
@click.option("--sort", type=click.Choice(SORTS), default="last_seen", show_default=True, help="Largest first.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="At most this many.")
@json_option
@url_option
@click.pass_context
def groups(ctx: click.Context, status: str | None, service: str | None, q: str | None, sort: str, limit: int,
           as_json: bool, url: str) -> None:
    """Error groups (one a bug), most recent first; `groups show|resolve|ignore|reopen ID` for one."""
    ctx.obj = api_of(url)
    if ctx.invoked_subcommand is not None:
        return
    answer = _ask(lambda: ctx.obj.get(GROUPS_PATH, status=status, service=service, q=q, sort=sort, limit=limit))
    if as_json:
        echo_json(answer)
        return
    rows = [[printable(group["status"]), str(group["count"]), printable(group["last_seen"]),
             printable(group["service"]), printable(group["id"]), printable(group["title"])]
            for group in answer["groups"]]
    if rows:
        click.echo("\n".join(aligned(["STATUS", "EVENTS", "LAST SEEN", "SERVICE", "ID", "TITLE"], rows)))
    # by_status counts every status of the groups that match --service and --search, whatever --status
    shown = ", ".join(f"{name} {count}" for name, count in answer.get("by_status", {}).items() if count)
    click.echo(f"{len(rows)} of {answer.get('total', len(rows))} groups" + (f"; by status: {shown}" if shown else ""),
               err=True)


@groups.command()
@click.argument("group_id", metavar="ID")
@json_option
@click.pass_obj
def show(api: WorkerApi, group_id: str, as_json: bool) -> None:
    """One group: its counts, status history and latest events."""
    group = _ask(lambda: api.get(f"{GROUPS_PATH}/{_in_path(group_id)}"))
    if as_json:
        echo_json(group)
        return
    click.echo("\n".join(describe(group)))


def describe(group: dict[str, Any]) -> list[str]:
    """A group for eyes: its title, fields aligned, its history and latest events."""
    statuses = [status for status in group.get("statuses", []) if status != group["status"]]
    fields = [
        ("id", group["id"]),
        ("status", group["status"] + (f" ({', '.join(statuses)})" if statuses else "")),
        ("service", group["service"]), ("level", group.get("level")), ("exception", group.get("exception_type")),
        ("logger", group.get("logger")), ("events", f"{group['count']}, first {group['first_seen']}, "
                                                     f"last {group['last_seen']}"),
        ("hosts", ", ".join(group.get("hosts") or [])),
    ]
    lines = [printable(group["title"]), *aligned(["", ""], [[f"  {name}", printable(value)]
                                                             for name, value in fields if value])[1:]]
    history = group.get("history") or []
    if history:
        lines.append("history:")
        lines += aligned(["", "", "", ""], [[f"  {printable(entry['at'])}", printable(entry.get("who", "")),
                                             f"{printable(entry.get('from'))} -> {printable(entry.get('to'))}",
                                             printable(entry.get("why", "")) + _reason_of(entry)]
                                            for entry in history])[1:]
    events = group.get("events") or []
    if events:
        lines.append("latest events:")
        lines += [f"  {printable(event.get('timestamp', ''))}  {printable(event.get('host', ''))}  "
                  f"{printable(event.get('message', ''))}" for event in events[:10]]
    return lines


def _reason_of(entry: dict[str, Any]) -> str:
    return f": {printable(entry['reason'])}" if entry.get("reason") else ""


def _in_path(group_id: str) -> str:
    """An id as a path segment: ids are base64url, anything else is quoted so that it stays one segment."""
    return quote(group_id, safe="")


def _change(api: WorkerApi, group_id: str, body: dict[str, Any], reason: str | None, as_json: bool) -> None:
    if reason:
        body = {**body, "reason": reason}
    status, answer = _ask(lambda: api.patch(f"{GROUPS_PATH}/{_in_path(group_id)}", body))
    if as_json:
        echo_json(answer)
    elif status == 202:
        click.echo(f"{body['status']} (pending): {group_id}: the worker that owns the group has not applied it yet; "
                   "it will, and `logmonitor groups show ID` then says so")
    else:
        click.echo(f"{answer['status']}: {group_id} {printable(answer['title'])}")


def reason_option(command: Any) -> Any:
    """``--reason``: why, kept in the group's history."""
    return click.option("--reason", default=None, metavar="TEXT",
                        help=f"Why (kept in the group's history; at most {MAX_REASON} characters).")(command)


@groups.command()
@click.argument("group_id", metavar="ID")
@reason_option
@json_option
@click.pass_obj
def resolve(api: WorkerApi, group_id: str, reason: str | None, as_json: bool) -> None:
    """Mark a group resolved: its next event reopens it as regressed."""
    _change(api, group_id, {"status": "resolved"}, reason, as_json)


@groups.command()
@click.argument("group_id", metavar="ID")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Until this many more events.")
@click.option("--until", "until", default=None, metavar="TIME", help="Until this time (ISO 8601, e.g. "
              "2026-12-31T00:00:00Z).")
@reason_option
@json_option
@click.pass_obj
def ignore(api: WorkerApi, group_id: str, count: int | None, until: str | None, reason: str | None,
           as_json: bool) -> None:
    """Ignore a group: forever, or until --count more events or until a --until time."""
    if count is not None and until is not None:
        raise click.UsageError("give --count or --until, not both")
    condition: dict[str, Any] = {"count": count} if count is not None else {"until": until} if until else {}
    _change(api, group_id, {"status": "ignored", "ignore": condition}, reason, as_json)


@groups.command()
@click.argument("group_id", metavar="ID")
@reason_option
@json_option
@click.pass_obj
def reopen(api: WorkerApi, group_id: str, reason: str | None, as_json: bool) -> None:
    """Set a resolved or ignored group back to unresolved."""
    _change(api, group_id, {"status": "unresolved"}, reason, as_json)
