"""The email notifier against a real local SMTP server (aiosmtpd): STARTTLS, implicit TLS, login, refusal."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from logmonitor.alerts.notifiers import DeliveryError, EmailNotifier
from logmonitor.alerts.rules import parse_rules
from tests.fixtures.ports import free_port
from tests.fixtures.receivers import SMTP_PASSWORD, SMTP_USER, Inbox, authenticate

ALERT = {"id": "a1", "rule": "critical", "kind": "critical", "status": "firing", "service": "pay",
         "title": "1 CRITICAL record in pay", "text": "CRITICAL pay.app: card processor down", "value": 1,
         "count": 1, "grouped": 0, "started_at": "2026-11-26T00:00:00.000Z", "at": "2026-11-26T00:00:00.000Z",
         "example": None, "notify": ["mail"]}


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, str, Inbox]]:
    """An SMTP server speaking TLS from the first byte (port 465 style), login required."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context,
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    yield port, str(ca_file), inbox
    controller.stop()


def notifier(port: int, ca_file: str, security: str, password: str = SMTP_PASSWORD) -> EmailNotifier:
    config = parse_rules(f"""
notifiers:
  mail: {{type: email, host: 127.0.0.1, port: {port}, security: {security}, username: {SMTP_USER},
          password: "{password}", from: logmonitor@example.com, to: [a@example.com, b@example.com],
          ca_file: "{ca_file}", timeout: 5}}
""", "rules.yaml", {})
    return EmailNotifier(config.notifiers["mail"])


async def test_implicit_tls_with_login_delivers_one_plain_text_mail(tls_server: tuple[int, str, Inbox]) -> None:
    port, ca_file, inbox = tls_server
    await notifier(port, ca_file, "tls").send(ALERT)
    [mail] = inbox.messages
    assert mail["Subject"] == "[logmonitor] FIRING: 1 CRITICAL record in pay"
    assert mail["To"] == "a@example.com, b@example.com" and mail.get_content_type() == "text/plain"
    assert "card processor down" in mail.get_content()


async def test_starttls_with_login_delivers(smtp_server: Any) -> None:
    await notifier(smtp_server.port, smtp_server.ca_file, "starttls").send(ALERT)
    assert [mail["Subject"] for mail in smtp_server.messages] == ["[logmonitor] FIRING: 1 CRITICAL record in pay"]


async def test_a_wrong_password_or_an_untrusted_certificate_is_a_delivery_error(
    tls_server: tuple[int, str, Inbox], tmp_path: Path
) -> None:
    port, ca_file, inbox = tls_server
    with pytest.raises(DeliveryError, match=r"^mail: 127\.0\.0\.1:"):
        await notifier(port, ca_file, "tls", password="wrong").send(ALERT)
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        await notifier(port, str(stranger), "tls").send(ALERT)
    assert inbox.messages == []
