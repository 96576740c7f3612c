"""librdkafka settings for the handler's producer: safe, compressed, and patient with outages."""

from __future__ import annotations

import logging
from typing import Any

from logmonitor.settings import KafkaSecurity

__all__ = ["producer_config"]

_QUIET = logging.getLogger("logmonitor.handler.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False  # librdkafka's own lines never reach the application's handlers (no recursion)


def _security(security: KafkaSecurity) -> dict[str, Any]:
    options: dict[str, Any] = {"security.protocol": security.protocol.lower()}
    optional = {
        "sasl.mechanism": security.sasl_mechanism,
        "sasl.username": security.sasl_username,
        "sasl.password": security.sasl_password,
        "ssl.ca.location": security.ssl_cafile,
        "ssl.certificate.location": security.ssl_certfile,
        "ssl.key.location": security.ssl_keyfile,
    }
    options.update({key: value for key, value in optional.items() if value})
    return options


def producer_config(bootstrap_servers: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The producer configuration: idempotent, acks=all, lz4 batches, keeps records until delivered.

    ``murmur2_random`` is librdkafka's Java-compatible partitioner: a service's records go to its home
    partition (``logmonitor/home_partition.py``), where the Java client, aiokafka and the ingest server
    put them too. librdkafka's default (``consistent_random``, CRC32) picks another one.

    TLS/SASL come from the same ``KAFKA_*`` variables the worker reads.
    """
    return {
        "bootstrap.servers": bootstrap_servers,
        "client.id": "logmonitor-handler",
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        "linger.ms": 5,
        "partitioner": "murmur2_random",
        "message.timeout.ms": 0,
        "queue.buffering.max.messages": 2_000_000,
        "reconnect.backoff.max.ms": 1000,
        "logger": _QUIET,
        **_security(KafkaSecurity.from_env()),
        **overrides,
    }
