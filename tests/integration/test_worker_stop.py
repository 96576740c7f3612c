"""A worker asked to stop (SIGTERM) ends promptly and cleanly whatever its clients hold open."""

from __future__ import annotations

import signal
import socket
import time
from typing import Any

LIVE_STREAMS = 20


def open_live_stream(port: int, path: bytes) -> socket.socket:
    """A live stream (a dashboard's of errors, a ``logmonitor tail`` of every record): the request sent and the
    stream's first bytes read."""
    stream = socket.create_connection(("127.0.0.1", port), timeout=10)
    stream.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    assert stream.recv(4096).startswith(b"HTTP/1.1 200"), "the stream opened"
    return stream


def start_grafana_query(port: int) -> socket.socket:
    """A Grafana query in flight: its headers sent and its body still arriving."""
    query = socket.create_connection(("127.0.0.1", port), timeout=10)
    query.sendall(b"POST /api/v1/grafana/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 4096\r\n\r\n{\"targets\": [")
    return query


def read_to_end(stream: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := stream.recv(65536):
        received += chunk
    return received


def test_sigterm_ends_the_worker_promptly_with_open_live_streams_and_a_query_in_flight(start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    port = int(worker.env["LOG_MONITOR_SERVER_PORT"])
    streams = [open_live_stream(port, b"/api/v1/logs/stream" if n % 2 else b"/api/v1/logs/tail")
               for n in range(LIVE_STREAMS)]
    query = start_grafana_query(port)
    asked = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    problem = worker.stopped_cleanly()
    took = time.monotonic() - asked
    assert problem is None, problem
    print(f"exit {took:.1f} s after SIGTERM with {LIVE_STREAMS} live streams and a query in flight")
    for stream in streams:
        assert b"event: status\ndata: reconnecting\n\n" in read_to_end(stream), \
            "each stream was told to reconnect elsewhere before it ended"
    query.close()
    log = worker.log_text()
    assert "LeaveGroup request succeeded" in log, "the worker left its group: a clean stop"
    assert "did not stop within" not in log, "the stop needed no deadline"
