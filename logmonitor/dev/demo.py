"""Simulated services (usermanagement, booking, notification, payment) logging through the handler.

Each service logs with its release and the environment ``production``; after ``deploy_after``
seconds, payment is deployed anew (:data:`DEPLOYED`): a new handler with the new release, as a
restarted process would have, and the new release brings a bug of its own, so the dashboard shows
a release change and a group new in it. A declined payment also fails the booking it was for, in
the same trace: the group's trace link shows both services on one timeline.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from logmonitor.handler import KafkaLogHandler, log_context

__all__ = ["DEPLOYED", "ENVIRONMENT", "RELEASES", "SERVICES", "DemoTraffic"]

SERVICES = ("usermanagement", "booking", "notification", "payment")
RELEASES = {"usermanagement": "3.2.0", "booking": "1.8.4", "notification": "0.9.12", "payment": "2.4.0"}
"""Each service's release when the demo starts."""
DEPLOYED = ("payment", "2.5.0")
"""The service deployed anew while the demo runs, and its new release."""
ENVIRONMENT = "production"


class PaymentDeclined(Exception):
    """The card issuer said no."""


class UpstreamTimeout(Exception):
    """A dependency did not answer in time."""


def _user_signup(log: logging.Logger, rng: random.Random) -> None:
    user = rng.randrange(10_000, 99_999)
    log.info("user %d signed up from %s", user, rng.choice(["web", "ios", "android"]), extra={"plan": "free"})


def _login_failure(log: logging.Logger, rng: random.Random) -> None:
    log.warning("login failed for user %d: wrong password (attempt %d)", rng.randrange(10_000, 99_999),
                rng.randrange(1, 5))


def _booking(log: logging.Logger, rng: random.Random) -> None:
    log.info("booking %s confirmed for %d guests", uuid.uuid4().hex[:8], rng.randrange(1, 6))


def _overbooked(log: logging.Logger, rng: random.Random) -> None:
    try:
        raise ValueError(f"room {rng.randrange(100, 500)} already booked for 2026-12-{rng.randrange(1, 29):02d}")
    except ValueError:
        log.exception("booking failed")


def _notification(log: logging.Logger, rng: random.Random) -> None:
    log.debug("sent %s notification in %d ms", rng.choice(["email", "sms", "push"]), rng.randrange(5, 300))


def _smtp_timeout(log: logging.Logger, rng: random.Random) -> None:
    try:
        raise UpstreamTimeout(f"smtp.example.com:587 did not answer within {rng.randrange(5, 30)} s")
    except UpstreamTimeout:
        log.exception("could not send email")


def _payment(log: logging.Logger, rng: random.Random) -> None:
    log.info("charged %.2f EUR", rng.uniform(5, 900), extra={"card": "4111 1111 1111 1111"})


def _declined(log: logging.Logger, rng: random.Random) -> None:
    try:
        raise PaymentDeclined(f"issuer declined with code {rng.choice([5, 51, 54, 61])}")
    except PaymentDeclined:
        log.exception("payment failed for order %d", rng.randrange(1000, 9999))


def _gateway_down(log: logging.Logger, rng: random.Random) -> None:
    log.critical("payment gateway unreachable; %d payments queued", rng.randrange(10, 400))


def _currency_missing(log: logging.Logger, rng: random.Random) -> None:
    try:
        raise KeyError(f"currency of order {rng.randrange(1000, 9999)}")
    except KeyError:
        log.exception("could not price the order")


def _booking_cancelled(log: logging.Logger, rng: random.Random) -> None:
    log.error("booking %s cancelled: the payment was declined", uuid.uuid4().hex[:8])


_Event = Callable[[logging.Logger, random.Random], None]
_NORMAL: dict[str, list[tuple[_Event, int]]] = {
    "usermanagement": [(_user_signup, 80), (_login_failure, 15), (_overbooked, 0)],
    "booking": [(_booking, 85), (_overbooked, 5)],
    "notification": [(_notification, 90), (_smtp_timeout, 3)],
    "payment": [(_payment, 85), (_declined, 6), (_gateway_down, 1)],
}
_BURSTS: dict[str, _Event] = {"payment": _declined, "notification": _smtp_timeout, "booking": _overbooked}
_NEW_IN_DEPLOYED: tuple[_Event, int] = (_currency_missing, 4)  # the bug the new release brings
_CASCADES: dict[_Event, tuple[str, _Event]] = {_declined: ("booking", _booking_cancelled)}  # in the same trace


@dataclass
class DemoTraffic:
    """Logs ``rate`` records per second across the services; now and then one service has an error burst.

    After ``deploy_after`` seconds (never if None), :data:`DEPLOYED`'s service moves to its new release.
    """

    rate: float = 20.0
    seed: int | None = None
    burst_every: float = 120.0
    burst_length: float = 15.0
    deploy_after: float | None = 90.0
    handlers: dict[str, KafkaLogHandler] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, duration: float | None = None) -> int:
        """Log until ``duration`` seconds have passed (forever if None); returns how many records."""
        rng = random.Random(self.seed)
        loggers = {service: self._logger(service, RELEASES[service]) for service in SERVICES}
        deployed = False
        started = time.monotonic()
        next_burst = started + rng.uniform(self.burst_every / 4, self.burst_every)
        burst: tuple[str, float] | None = None
        sent = 0
        try:
            while not self.stop.is_set() and (duration is None or time.monotonic() - started < duration):
                now = time.monotonic()
                if not deployed and self.deploy_after is not None and now - started >= self.deploy_after:
                    self._deploy(loggers[DEPLOYED[0]])
                    deployed = True
                if burst is None and now >= next_burst:
                    burst = (rng.choice(list(_BURSTS)), now + self.burst_length)
                    next_burst = now + self.burst_length + rng.uniform(self.burst_every / 2, self.burst_every)
                if burst is not None and now >= burst[1]:
                    burst = None
                service = rng.choice(SERVICES)
                event = self._pick(service, burst, rng, deployed)
                with log_context(request_id=uuid.uuid4().hex[:16], trace_id=uuid.uuid4().hex,
                                 user_id=str(rng.randrange(1, 5000))):
                    event(loggers[service], rng)
                    if event in _CASCADES:
                        other, follow_up = _CASCADES[event]
                        follow_up(loggers[other], rng)
                sent += 1
                self.stop.wait(max(0.0, started + sent / self.rate - time.monotonic()))
        finally:
            for handler in self.handlers.values():
                handler.close()
        return sent

    def _logger(self, service: str, release: str) -> logging.Logger:
        log = logging.getLogger(f"demo.{service}")
        log.setLevel(logging.DEBUG)
        log.propagate = False
        self._attach(log, service, release)
        return log

    def _attach(self, log: logging.Logger, service: str, release: str) -> None:
        handler = KafkaLogHandler(service=service, release=release, environment=ENVIRONMENT)
        self.handlers[service] = handler
        log.addHandler(handler)

    def _deploy(self, log: logging.Logger) -> None:
        """Move :data:`DEPLOYED`'s service to its new release: its handler closes, one of the new release logs on."""
        service, release = DEPLOYED
        old = self.handlers[service]
        log.removeHandler(old)
        old.close()
        self._attach(log, service, release)

    @staticmethod
    def _pick(service: str, burst: tuple[str, float] | None, rng: random.Random, deployed: bool) -> _Event:
        if burst is not None and burst[0] == service and rng.random() < 0.7:
            return _BURSTS[service]
        normal = [*_NORMAL[service], _NEW_IN_DEPLOYED] if deployed and service == DEPLOYED[0] else _NORMAL[service]
        events = [event for event, _weight in normal]
        weights = [weight for _event, weight in normal]
        chosen: _Event = rng.choices(events, weights)[0]
        return chosen
