"""Deliver one alert: generic JSON webhook, Slack incoming webhook, or email over SMTP.

Alert text comes from log records, which attackers can write: Slack's control characters are
escaped, email headers are single-line, and nothing is ever rendered as HTML.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import orjson

from logmonitor.alerts.rules import NotifierConfig

__all__ = ["DeliveryError", "Notifier", "build_notifier", "email_message", "slack_payload", "url_origin"]


class DeliveryError(Exception):
    """The receiver did not accept the alert (worth retrying)."""


class Notifier(Protocol):
    """Sends one alert; raises on failure."""

    name: str

    async def send(self, alert: dict[str, Any]) -> None:
        """Deliver ``alert`` or raise."""


class WebhookNotifier:
    """POSTs the alert as JSON; any 2xx answer is a delivery."""

    def __init__(self, config: NotifierConfig) -> None:
        self.name = config.name
        self._url: str = config.options["url"]
        self._where = url_origin(self._url)
        self._headers = {"Content-Type": "application/json", **config.options.get("headers", {})}
        self._timeout = aiohttp.ClientTimeout(total=config.options["timeout"])

    def body(self, alert: dict[str, Any]) -> bytes:
        """The request body: the alert itself."""
        return orjson.dumps(alert)

    async def send(self, alert: dict[str, Any]) -> None:
        """POST the body; raise :class:`DeliveryError` unless the answer is 2xx."""
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session, \
                    session.post(self._url, data=self.body(alert), headers=self._headers) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"{self.name}: {self._where} answered {response.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise DeliveryError(f"{self.name}: {self._where}: {_failure(error)}") from None


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what may be logged of it (a webhook's path is often its secret)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _failure(error: BaseException) -> str:
    """What went wrong, without the URL that aiohttp puts in most of its messages."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect ({error.os_error.strerror or type(error.os_error).__name__})"
    return "timed out" if isinstance(error, asyncio.TimeoutError) else type(error).__name__


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: fallback text plus detail blocks (within Slack's 3,000 characters)."""
    mark = ":rotating_light:" if alert["status"] == "firing" else ":white_check_mark:"
    title = _slack_escape(alert["title"])
    detail = "```" + _slack_escape(alert["text"])[:2900] + "```"
    facts = [f"*rule* {_slack_escape(alert['rule'])}", f"*service* {_slack_escape(alert['service'])}",
             f"*since* {alert['started_at']}"]
    if alert.get("grouped"):
        facts.append(f"*grouped* {alert['grouped']:,}")
    return {
        "text": f"{mark} [{alert['status'].upper()}] {title}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{mark} *[{alert['status'].upper()}]* {title}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": detail}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "  ".join(facts)}]},
        ],
    }


class SlackNotifier(WebhookNotifier):
    """POSTs a Slack-compatible incoming-webhook payload (Slack, Mattermost, Rocket.Chat)."""

    def body(self, alert: dict[str, Any]) -> bytes:
        """The Slack message for ``alert``."""
        return orjson.dumps(slack_payload(alert))


def email_message(alert: dict[str, Any], sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """A plain-text email for ``alert`` (subject on one line)."""
    message = EmailMessage()
    subject = f"[logmonitor] {alert['status'].upper()}: {alert['title']}"
    message["Subject"] = " ".join(subject.split())[:250]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    lines = [alert["title"], "", alert["text"], "", f"rule: {alert['rule']} ({alert['kind']})",
             f"service: {alert['service']}", f"status: {alert['status']}", f"since: {alert['started_at']}",
             f"at: {alert['at']}"]
    if alert.get("grouped"):
        lines.append(f"grouped: {alert['grouped']}")
    message.set_content("\n".join(lines))
    return message


class EmailNotifier:
    """Sends a plain-text email over SMTP: STARTTLS (default), implicit TLS or none; optional login."""

    def __init__(self, config: NotifierConfig) -> None:
        self.name = config.name
        self._options = config.options

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self._options.get("ca_file"))

    def _send_blocking(self, alert: dict[str, Any]) -> None:
        options = self._options
        message = email_message(alert, options["from"], options["to"])
        host, port, timeout = options["host"], options["port"], options["timeout"]
        if options["security"] == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if options["security"] == "starttls":
                client.starttls(context=self._context())
            if "username" in options:
                client.login(options["username"], options["password"])
            client.send_message(message)

    async def send(self, alert: dict[str, Any]) -> None:
        """Send in a thread (smtplib blocks); raise :class:`DeliveryError` on any SMTP or network failure."""
        try:
            await asyncio.to_thread(self._send_blocking, alert)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"{self.name}: {self._options['host']}:{self._options['port']}: {error}") from None


def build_notifier(config: NotifierConfig) -> Notifier:
    """The notifier for a validated notifier configuration."""
    kinds: dict[str, type[Notifier]] = {"webhook": WebhookNotifier, "slack": SlackNotifier, "email": EmailNotifier}
    return kinds[config.type](config)  # type: ignore[call-arg]
