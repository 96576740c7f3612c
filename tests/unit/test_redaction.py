"""Each secret kind of DESIGN section 6 is replaced; look-alikes are left alone."""

from __future__ import annotations

import pytest

from logmonitor.handler.redaction import FILTERED, Redactor

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabc\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login password=hunter2 ok", "hunter2"),
        ("passwd: s3cr3t", "s3cr3t"),
        ("client_secret=abc123", "abc123"),
        ("token=eyJhbGciOi", "eyJhbGciOi"),
        ("api_key=AKIA1234", "AKIA1234"),
        ("apikey: zzz999", "zzz999"),
        ("access_token=tok-1", "tok-1"),
        ("auth=letmein", "letmein"),
        ('{"authorization": "Basic dXNlcjpwYXNz"}', "dXNlcjpwYXNz"),
        ("credentials=admin:admin", "admin:admin"),
        ("MYSQL_PWD=rootpw", "rootpw"),
        ("private_key=AAAAB3Nza", "AAAAB3Nza"),
        ("privatekey: k3y", "k3y"),
        ("otp=123456", "123456"),
        ("cookie: sid=42abc", "42abc"),
        ("session=deadbeef", "deadbeef"),
        ("calling with Bearer abcdef.ghijkl.mnop", "abcdef.ghijkl.mnop"),
        ("connect postgres://app:pa55word@db:5432/x", "pa55word"),
        ("card 4111 1111 1111 1111 charged", "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004 charged", "5500-0000-0000-0004"),
        (f"key follows {PEM} end", "MIIEowIBAAKCAQEAx"),
    ],
)
def test_each_secret_kind_is_filtered_and_counted(text: str, secret: str) -> None:
    redactor = Redactor()
    result = redactor.text(text)
    assert secret not in result
    assert FILTERED in result
    assert redactor.redactions >= 1


@pytest.mark.parametrize(
    "text",
    [
        "author=Jane Austen",
        "order 4111 1111 1111 1112 is not a card (Luhn fails)",
        "processed 1234567 rows",
        "https://example.com/path",
        "tokenizer finished",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    redactor = Redactor()
    assert redactor.text(text) == text
    assert redactor.redactions == 0


def test_mapping_keys_named_like_secrets_are_filtered_at_any_depth() -> None:
    redactor = Redactor()
    value = {"user": "bob", "X-Auth-Token": "t0k", "nested": [{"dbPassword": "pw", "author": "me"}],
             "credentials": {"user": "a", "pw": "b"}, "note": "password=x"}
    assert redactor.value(value) == {
        "user": "bob", "X-Auth-Token": FILTERED, "nested": [{"dbPassword": FILTERED, "author": "me"}],
        "credentials": FILTERED, "note": f"password={FILTERED}",
    }
    assert redactor.redactions == 4


def test_redaction_is_configurable() -> None:
    off = Redactor(enabled=False)
    assert off.text("password=x") == "password=x"
    custom = Redactor(extra_keys=["pin"], extra_patterns=[r"EMP-\d{6}"])
    assert custom.value({"pin": "1234"}) == {"pin": FILTERED}
    assert custom.text("employee EMP-123456 left") == f"employee {FILTERED} left"
