"""Fingerprints: one bug is one group, two bugs are two."""

from logmonitor.fingerprint import fingerprint, group_title, mask_message

TRACE = 'Traceback:\n  File "/usr/lib/python3.11/site-packages/db.py", line 9, in query\n' \
        '  File "/app/orders.py", line {line}, in {function}\n'


def error(message: str, *, service: str = "booking", exc_type: str = "KeyError", function: str = "load") -> dict:
    stack = TRACE.format(line=10, function=function)
    return {"service": service, "message": message, "exception": {"type": exc_type, "stacktrace": stack}}


def test_variable_parts_are_masked() -> None:
    masked = mask_message("User 1234 'bob' [db1] 550e8400-e29b-41d4-a716-446655440000 0xdeadbeef a1b2c3d4e5f6")
    assert masked == "User #n #str #val #uuid #hex #hex"


def test_same_bug_with_other_values_is_one_group() -> None:
    assert fingerprint(error("Order 17 not found for 'ann'")) == fingerprint(error("Order 99 not found for 'bob'"))


def test_different_bugs_are_different_groups() -> None:
    base = fingerprint(error("Order 17 not found"))
    assert base != fingerprint(error("Order 17 not found", service="payment"))
    assert base != fingerprint(error("Order 17 not found", exc_type="ValueError"))
    assert base != fingerprint(error("Order 17 not found", function="save"))
    assert base != fingerprint(error("Payment 17 declined"))


def test_title_names_the_exception() -> None:
    assert group_title(error("Order 17 not found")) == "KeyError: Order 17 not found"
    assert group_title({"service": "s", "message": "plain\nsecond line", "exception": None}) == "plain"
