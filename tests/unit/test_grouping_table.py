"""The grouping table (issue 20): pairs of errors that must share a group, and pairs that must not.

Messages without a stack group by their template (``logmonitor/pipeline/grouping/message.py``); errors
with a stack by their in-app frames (``logmonitor/pipeline/grouping/frames.py``), whatever shape the
record came in (native, ECS, OpenTelemetry). Each pair is fingerprinted as the router does it,
with the current grouping version.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from logmonitor.pipeline.fingerprint import fingerprint, mask_message
from logmonitor.pipeline.grouping.frames import Frame, frames
from logmonitor.pipeline.records import parse_record

SAME_MESSAGES = [  # (first, second): one bug, other values
    ("Order 17 not found", "Order 9001 not found"),
    ("User 'ann' has no cart", "User 'bob' has no cart"),
    ('Key "a.b" missing', 'Key "x" missing'),
    ("Retry [3/5] failed", "Retry [1/5] failed"),
    ("Session 550e8400-e29b-41d4-a716-446655440000 expired", "Session 6ba7b810-9dad-11d1-80b4-00c04fd430c8 expired"),
    ("Object at 0x7f3a2c1b4d90 freed twice", "Object at 0x55d1e2f3a4b0 freed twice"),
    ("Cannot mail ann@example.com", "Cannot mail bob.smith+tag@mail.corp.example.org"),
    ("GET https://api.example.com/v1/users/7 failed", "GET http://10.0.0.3:8080/health?full=1 failed"),
    ("Cannot reach db-1.prod.internal", "Cannot reach cache.eu-west-1.amazonaws.com"),
    ("Connection refused by 10.0.0.12", "Connection refused by 192.168.1.254"),
    ("Connection refused by 10.0.0.12:5432", "Connection refused by 172.16.0.1:6379"),
    ("Bind failed on 2001:db8::1", "Bind failed on fe80::1ff:fe23:4567:890a%eth0"),
    ("Bind failed on ::1", "Bind failed on ::ffff:192.0.2.128"),
    ("Client 10.1.2.3 banned", "Client 2001:db8:85a3::8a2e:370:7334 banned"),
    ("Link down on 00:1a:2b:3c:4d:5e", "Link down on a4:83:e7:0f:12:9c"),
    ("Deadline 2024-01-02T03:04:05Z passed", "Deadline 2025-12-31T23:59:59.999+01:00 passed"),
    ("Backup of 2024-01-02 03:04:05 failed", "Backup of 2023-07-14 18:00:00 failed"),
    ("Backup of 2024-01-02 failed", "Backup of 1999/12/31 failed"),
    ("Cache stale since Tue, 02 Jan 2024 10:00:00 GMT", "Cache stale since Sun, 17 Mar 2024 08:30:12 GMT"),
    ("Signed at 2 Jan 2024 10:00:00 +0000", "Signed at 28 Feb 2023 23:01:02 -0500"),
    ("Request at 02/Jan/2024:10:00:00 +0000 rejected", "Request at 31/Dec/2023:23:59:59 -0700 rejected"),
    ("Job started Jan  2 10:00:00 late", "Job started Oct 21 07:28:00 late"),
    ("Tick at 12:34:56.789 skipped", "Tick at 01:02:03 skipped"),
    ("Report due 02.01.2024 missing", "Report due 31.12.2023 missing"),
    ("Query took 12ms", "Query took 1.5s"),
    ("Lock held for 3m", "Lock held for 250 ms"),
    ("Timeout after 1h2m3.5s", "Timeout after 45s"),
    ("Lease expires in 3 minutes", "Lease expires in 2 days"),
    ("Token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c rejected",
     "Token eyJhbGciOiJSUzI1NiJ9.eyJ1c2VyIjoiYm9iIn0x.dGhpcyBpcyBhIHNpZ25hdHVyZSBvZiBzb3J0cw rejected"),
    ("API key AKx9Ld02PqRt7Vw3ZbN5 revoked", "API key Qm8sT1uV4wX7yZ0aB3cD revoked"),
    ("Upload aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ= corrupt", "Upload c29tZSBvdGhlciBwYXlsb2FkIGhlcmU= corrupt"),
    ("Commit 3f786850e387550fdab836ed7e6dc881de23001b missing",
     "Commit 89e6c98d92887913cadf06b2adb97f26cde4849b missing"),
    ("can't find user 'bob'", "can't find user 'alice'"),
    ("Payment of 12.50 EUR to ann@example.com at 2024-01-02 03:04:05 failed after 30s",
     "Payment of 7 EUR to bob@example.net at 2024-02-03 04:05:06 failed after 2.5s"),
    ("x" * 2000 + " tail one", "x" * 2000 + " tail two"),  # cut before masking, as version 1 did
]

DIFFERENT_MESSAGES = [  # (first, second): two bugs
    ("Order 17 not found", "Payment 17 declined"),
    ("Cannot mail ann@example.com", "Cannot reach ann@example.com"),
    ("GET https://api.example.com/users failed", "POST https://api.example.com/users failed"),
    ("Connection refused by 10.0.0.12", "Connection reset by 10.0.0.12"),
    ("Query took 12ms", "Query failed after 12ms"),
    ("NullPointerException in OrderService", "IllegalStateException in OrderService"),
    ("logger.info failed", "logger.warning failed"),
    ("module orders.views broke", "module orders.models broke"),
    ("std::vector overflow", "std::map overflow"),
    ("Disk /dev/sda full", "Disk /dev/sdb full"),
    ("Deadline 2024-01-02T03:04:05Z passed", "Deadline 2024-01-02T03:04:05Z missed"),
    ("Cache stale since Tue, 02 Jan 2024 10:00:00 GMT", "Cache dropped since Tue, 02 Jan 2024 10:00:00 GMT"),
    ("Upload of report.pdf failed", "Upload of report.csv failed"),
    ("ConnectionRefusedErrorHandler crashed", "ConnectionResetErrorHandler crashed"),
]


def plain(message: str, service: str = "shop", exc_type: str | None = None) -> dict[str, Any]:
    """A record without a stack trace."""
    return {"service": service, "message": message, "exception": {"type": exc_type} if exc_type else None}


@pytest.mark.parametrize(("first", "second"), SAME_MESSAGES)
def test_messages_of_one_bug_share_a_group(first: str, second: str) -> None:
    assert fingerprint(plain(first)) == fingerprint(plain(second)), (mask_message(first), mask_message(second))


@pytest.mark.parametrize(("first", "second"), DIFFERENT_MESSAGES)
def test_messages_of_two_bugs_do_not_share_a_group(first: str, second: str) -> None:
    assert fingerprint(plain(first)) != fingerprint(plain(second)), mask_message(first)


def test_service_and_exception_type_keep_message_groups_apart() -> None:
    assert fingerprint(plain("Order 17 not found")) != fingerprint(plain("Order 17 not found", service="pay"))
    assert fingerprint(plain("Order 1", exc_type="KeyError")) != fingerprint(plain("Order 1", exc_type="ValueError"))


def python_trace(*frames_: tuple[str, int, str], error: str = "KeyError: 'x'") -> str:
    lines = ["Traceback (most recent call last):"]
    for path, line, function in frames_:
        lines += [f'  File "{path}", line {line}, in {function}', "    some_code()", "    ^^^^^^^^^^^"]
    return "\n".join([*lines, error])


def java_trace(*frames_: str, head: str = "java.lang.IllegalStateException: boom") -> str:
    return "\n".join([head, *(f"\tat {frame}" for frame in frames_)])


def node_trace(*frames_: str, head: str = "TypeError: x is undefined") -> str:
    return "\n".join([head, *(f"    at {frame}" for frame in frames_)])


def go_trace(*frames_: tuple[str, str]) -> str:
    lines = ["panic: runtime error: invalid memory address or nil pointer dereference", "", "goroutine 1 [running]:"]
    for function, location in frames_:
        lines += [function, f"\t{location}"]
    return "\n".join(lines)


def dotnet_trace(*frames_: str) -> str:
    return "\n".join(["System.InvalidOperationException: boom", *(f"   at {frame}" for frame in frames_)])


SITE = "/usr/lib/python3.11/site-packages"
PY_APP = python_trace(("/app/api.py", 10, "handle"), (f"{SITE}/sqlalchemy/orm.py", 99, "query"),
                      ("/app/orders.py", 20, "load"))
JAVA_APP = java_trace("com.shop.OrderService.load(OrderService.java:42)",
                      "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)",
                      "com.shop.Api.handle(Api.java:12)", "java.base/java.lang.Thread.run(Thread.java:833)")
NODE_APP = node_trace("load (/app/src/orders.js:12:5)", "Layer.handle (/app/node_modules/express/lib/layer.js:95:5)",
                      "async Api.handle (/app/src/api.js:3:9)",
                      "process.processTicksAndRejections (node:internal/process/task_queues:95:5)")
GO_APP = go_trace(("github.com/acme/shop/orders.(*Store).Load(0xc000010000, {0x6b2a40, 0x5})",
                   "/app/orders/store.go:42 +0x1d"),
                  ("net/http.HandlerFunc.ServeHTTP(0xc0000a6000?, {0x7f2a1c, 0xc0000b2000}, 0x1)",
                   "/usr/local/go/src/net/http/server.go:2136 +0x29"),
                  ("main.main()", "/app/main.go:30 +0x85"))
DOTNET_APP = dotnet_trace("Shop.Orders.OrderService.Load(Int32 id) in /src/Orders/OrderService.cs:line 42",
                          "System.Linq.Enumerable.First[TSource](IEnumerable`1 source)",
                          "Shop.Api.Handle() in /src/Api.cs:line 12")


def stacked(stack: str, message: str = "boom 1", exc_type: str = "KeyError", service: str = "shop") -> dict[str, Any]:
    """A native record with a stack trace."""
    return {"service": service, "message": message, "exception": {"type": exc_type, "stacktrace": stack}}


SAME_STACKS = [  # (first, second): one bug
    ("python: other line numbers and message", stacked(PY_APP, "Order 17 not found"),
     stacked(PY_APP.replace("line 20", "line 27").replace("line 10", "line 11"), "Order 9 not found for 'bob'")),
    ("python: other library frames", stacked(PY_APP),
     stacked(PY_APP.replace("sqlalchemy/orm.py", "sqlalchemy/engine/base.py").replace("query", "execute"))),
    ("python: deployed elsewhere", stacked(PY_APP), stacked(PY_APP.replace("/app/", "/srv/shop/"))),
    ("python: recursion deeper", stacked(python_trace(("/app/tree.py", 5, "walk"), ("/app/tree.py", 9, "walk"))),
     stacked(python_trace(*[("/app/tree.py", 9, "walk")] * 7))),
    ("java: other line numbers", stacked(JAVA_APP), stacked(JAVA_APP.replace(":42)", ":57)").replace(":12)", ":13)"))),
    ("java: framework frames differ", stacked(JAVA_APP),
     stacked(JAVA_APP.replace("org.springframework.web.servlet.FrameworkServlet.service", "javax.servlet.Http.do"))),
    ("java: generated lambda classes",
     stacked(java_trace("com.shop.A$$Lambda$14/0x0000000800066840.run(Unknown Source)")),
     stacked(java_trace("com.shop.A$$Lambda$231/0x00000008001a2c40.run(Unknown Source)"))),
    ("node: other lines and columns", stacked(NODE_APP), stacked(NODE_APP.replace(":12:5", ":14:11"))),
    ("node: other node_modules", stacked(NODE_APP),
     stacked(NODE_APP.replace("Layer.handle (/app/node_modules/express/lib/layer.js:95:5)",
                              "next (/app/node_modules/express/lib/router/route.js:149:13)"))),
    ("go: other lines, arguments and offsets", stacked(GO_APP),
     stacked(GO_APP.replace("0xc000010000", "0xc0000ff000").replace(":42 +0x1d", ":44 +0x2f"))),
    (".net: other lines", stacked(DOTNET_APP), stacked(DOTNET_APP.replace("line 42", "line 43"))),
]

DIFFERENT_STACKS = [  # (first, second): two bugs
    ("python: another in-app function", stacked(PY_APP), stacked(PY_APP.replace("in load", "in save"))),
    ("python: another in-app module", stacked(PY_APP), stacked(PY_APP.replace("/app/orders.py", "/app/carts.py"))),
    ("python: another caller", stacked(PY_APP), stacked(PY_APP.replace("in handle", "in retry"))),
    ("python: another exception type", stacked(PY_APP), stacked(PY_APP, exc_type="ValueError")),
    ("java: another class", stacked(JAVA_APP),
     stacked(JAVA_APP.replace("com.shop.OrderService", "com.shop.CartService"))),
    ("node: another function", stacked(NODE_APP), stacked(NODE_APP.replace("at load (", "at save ("))),
    ("go: another method", stacked(GO_APP), stacked(GO_APP.replace("(*Store).Load", "(*Store).Save"))),
    (".net: another method", stacked(DOTNET_APP),
     stacked(DOTNET_APP.replace("OrderService.Load", "OrderService.Save"))),
    ("only library frames: other ones", stacked(python_trace((f"{SITE}/a.py", 1, "f"))),
     stacked(python_trace((f"{SITE}/a.py", 1, "g")))),
]


@pytest.mark.parametrize(("case", "first", "second"), SAME_STACKS, ids=[case for case, *_ in SAME_STACKS])
def test_stacks_of_one_bug_share_a_group(case: str, first: dict[str, Any], second: dict[str, Any]) -> None:
    assert fingerprint(first) == fingerprint(second)


@pytest.mark.parametrize(("case", "first", "second"), DIFFERENT_STACKS, ids=[case for case, *_ in DIFFERENT_STACKS])
def test_stacks_of_two_bugs_do_not_share_a_group(case: str, first: dict[str, Any], second: dict[str, Any]) -> None:
    assert fingerprint(first) != fingerprint(second)


def test_a_stack_without_readable_frames_groups_by_type_and_message() -> None:
    assert fingerprint(stacked("<no frames here>", "Order 1 lost")) == fingerprint(stacked("???", "Order 2 lost"))
    assert fingerprint(stacked("<no frames here>", "Order 1 lost")) != fingerprint(stacked("???", "Cart 1 lost"))
    no_stack = {"service": "shop", "message": "", "exception": {"type": "KeyError", "message": "", "stacktrace": None}}
    assert fingerprint(stacked("", "")) == fingerprint(no_stack)


def test_frames_name_module_and_function_and_know_library_code() -> None:
    assert frames(PY_APP) == [Frame("api", "handle", False), Frame("orm", "query", True),
                              Frame("orders", "load", False)]
    assert frames(JAVA_APP) == [
        Frame("com.shop.OrderService", "load", False),
        Frame("org.springframework.web.servlet.FrameworkServlet", "service", True),
        Frame("com.shop.Api", "handle", False), Frame("java.lang.Thread", "run", True)]
    assert frames(NODE_APP) == [Frame("orders", "load", False), Frame("layer", "Layer.handle", True),
                                Frame("api", "Api.handle", False),
                                Frame("task_queues", "process.processTicksAndRejections", True)]
    assert frames(GO_APP) == [Frame("github.com/acme/shop/orders", "(*Store).Load", False),
                              Frame("net/http", "HandlerFunc.ServeHTTP", True), Frame("main", "main", False)]
    assert frames(DOTNET_APP) == [Frame("Shop.Orders.OrderService", "Load", False),
                                  Frame("System.Linq.Enumerable", "First[TSource]", True),
                                  Frame("Shop.Api", "Handle", False)]


def test_go_reads_the_failing_goroutine_only() -> None:
    other = "\n\ngoroutine 7 [select]:\nmain.worker(0x1)\n\t/app/worker.go:9 +0x2"
    assert frames(GO_APP + other) == frames(GO_APP)


def ecs(stack: str, message: str) -> dict[str, Any]:
    doc = {"@timestamp": "2026-01-01T00:00:00Z", "log": {"level": "ERROR"}, "service": {"name": "shop"},
           "message": message, "error": {"type": "java.lang.IllegalStateException", "stack_trace": stack}}
    return parse_record(orjson.dumps(doc), now=1_767_225_600.0)


def otel(stack: str, message: str) -> dict[str, Any]:
    doc = {"timeUnixNano": "1767225600000000000", "severityText": "ERROR", "body": {"stringValue": message},
           "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
           "attributes": [{"key": "exception.type", "value": {"stringValue": "java.lang.IllegalStateException"}},
                          {"key": "exception.stacktrace", "value": {"stringValue": stack}}]}
    return parse_record(orjson.dumps(doc), now=1_767_225_600.0)


@pytest.mark.parametrize("shape", [ecs, otel])
def test_ecs_and_opentelemetry_stacks_group_like_native_ones(shape: Any) -> None:
    native = stacked(JAVA_APP, exc_type="java.lang.IllegalStateException")
    assert fingerprint(shape(JAVA_APP.replace(":42)", ":50)"), "order 1 failed")) == fingerprint(native)
    assert fingerprint(shape(JAVA_APP.replace(".load(", ".save("), "order 1 failed")) != fingerprint(native)


def test_a_long_stack_is_read_to_its_first_64_kib_only() -> None:
    padding = python_trace(*[("/app/deep.py", n, f"level{n}") for n in range(3000)])
    assert len(padding) > 64 * 1024
    tail = "\n" + python_trace(("/app/orders.py", 1, "load"))
    assert fingerprint(stacked(padding + tail)) == fingerprint(stacked(padding + tail.replace("load", "save")))

