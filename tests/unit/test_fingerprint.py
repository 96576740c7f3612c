"""Fingerprints: one bug is one group, two bugs are two; version 1 stays as it was.

The message templates and stack frames of the current version are specified in
test_grouping_table.py, the choice between versions in test_grouping_versions.py.
"""

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logmonitor.pipeline.fingerprint import fingerprint, group_title, mask_message
from logmonitor.pipeline.grouping import v1

TRACE = 'Traceback:\n  File "/usr/lib/python3.11/site-packages/db.py", line 9, in query\n' \
        '  File "/app/orders.py", line {line}, in {function}\n'


def error(message: str, *, service: str = "booking", exc_type: str = "KeyError", function: str = "load") -> dict:
    stack = TRACE.format(line=10, function=function)
    return {"service": service, "message": message, "exception": {"type": exc_type, "stacktrace": stack}}


def test_variable_parts_are_masked() -> None:
    message = "User 1234 'bob' [db1] 550e8400-e29b-41d4-a716-446655440000 0xdeadbeef a1b2c3d4e5f6"
    assert v1.mask_message(message) == "User #n #str #val #uuid #hex #hex"
    assert mask_message(message) == "User #n #str #val #uuid #n #n", "since version 2, hex numbers are numbers"


def test_same_bug_with_other_values_is_one_group() -> None:
    assert fingerprint(error("Order 17 not found for 'ann'")) == fingerprint(error("Order 99 not found for 'bob'"))


def test_different_bugs_are_different_groups() -> None:
    base = fingerprint(error("Order 17 not found"))
    assert base != fingerprint(error("Order 17 not found", service="payment"))
    assert base != fingerprint(error("Order 17 not found", exc_type="ValueError"))
    assert base != fingerprint(error("Order 17 not found", function="save"))
    plain = {"service": "booking", "message": "Order 17 not found", "exception": None}
    assert fingerprint(plain) != fingerprint({**plain, "message": "Payment 17 declined"})


def test_with_a_stack_the_frames_group_not_the_message() -> None:
    assert fingerprint(error("Order 17 not found")) == fingerprint(error("Payment 17 declined"))
    assert v1.fingerprint(error("Order 17 not found")) != v1.fingerprint(error("Payment 17 declined")), "v1 as it was"


V1_PINNED = [  # fingerprints the code before grouping versions gave (commit 67ba2b1): existing groups' keys
    (error("Order 17 not found for 'ann'"), "35925cb1281549a29927"),
    ({"service": "pay", "message": "GET https://api.example.com/v1/users/7 took 12ms", "exception": None},
     "d3234361de30ae953df6"),
    ({"service": "pay", "message": "", "exception": {"type": "NPE", "stacktrace": "at com.x.Y.m(Y.java:12)"}},
     "4548ac2d5ae2146806fd"),
]


@pytest.mark.parametrize(("record", "expected"), V1_PINNED)
def test_version_1_gives_the_fingerprints_it_always_gave(record: dict, expected: str) -> None:
    assert v1.fingerprint(record) == expected


def test_title_names_the_exception() -> None:
    assert group_title(error("Order 17 not found")) == "KeyError: Order 17 not found"
    assert group_title({"service": "s", "message": "plain\nsecond line", "exception": None}) == "plain"


OLD_MASKS = (  # mask_message's regexes before the bracket mask was made linear: the reference
    (re.compile(r"'[^']*'|\"[^\"]*\""), "#str"),
    (re.compile(r"\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|<[^>]*>"), "#val"),
    (re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b"), "#uuid"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b"), "#hex"),
    (re.compile(r"\d+(?:\.\d+)?"), "#n"),
)


@given(st.text(alphabet="[](){}<>'\"\nax 1f-.", max_size=80))
def test_messages_are_masked_as_the_regexes_masked_them(text: str) -> None:
    expected = text[:2000]
    for pattern, token in OLD_MASKS:
        expected = pattern.sub(token, expected)
    assert v1.mask_message(text) == expected


@pytest.mark.parametrize("run", ["[", "(", "{", "<", "'", '"', "0x", "a1", "[(", "1."])
def test_masking_a_long_run_of_one_delimiter_takes_linear_time(run: str) -> None:
    started = time.perf_counter()
    v1.mask_message(run * 100_000)
    mask_message(run * 100_000)
    v1.fingerprint(error(run * 100_000))
    fingerprint(error(run * 100_000))
    assert time.perf_counter() - started < 1.0
