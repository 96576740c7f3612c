"""Each secret kind of DESIGN section 6 is replaced; look-alikes are left alone."""

from __future__ import annotations

import pytest

from logmonitor.handler.redaction import FILTERED, MAX_TEXT, Redactor

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabc\n-----END RSA PRIVATE KEY-----"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
GITHUB_CLASSIC = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"
GITHUB_FINE_GRAINED = "github_pat_11ABCDEFG0123456789abc_" + "x9Y8z7W6v5" * 5 + "u4T3s2R1q"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
GOOGLE_KEY = "AIzaSyD-" + "abcdefghij" * 3 + "k"  # AIza and 35 characters


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
        ("card 4222222222222 charged", "4222222222222"),  # 13 digits: the fewest a card has
        ("card \u0664\u0661" + "\u0661" * 14 + " charged", "\u0664\u0661" + "\u0661" * 14),  # other digits
        (f"key follows {PEM} end", "MIIEowIBAAKCAQEAx"),
        (f"aws key {AWS_KEY_ID} used", AWS_KEY_ID),
        ("session ASIAY34FZKBOKMUTVV7A expired", "ASIAY34FZKBOKMUTVV7A"),
        (f"cloned with {GITHUB_CLASSIC}.", GITHUB_CLASSIC),
        (f"gho token {GITHUB_CLASSIC.replace('ghp_', 'gho_')}", GITHUB_CLASSIC[4:]),
        (f"fine-grained {GITHUB_FINE_GRAINED} ok", GITHUB_FINE_GRAINED),
        ("slack xoxb-2048-1024-AbCdEfGhIjKlMnOp rejected", "AbCdEfGhIjKlMnOp"),
        ("user xoxp-1234567890-0987654321-abcdef", "0987654321"),
        ("app xapp-1-A0123BC4DEF-5678901234-abcdef0123 up", "A0123BC4DEF"),
        ("posting to https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX now",
         "XXXXXXXXXXXXXXXXXXXXXXXX"),
        (f"jwt={JWT}", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
        (f"got {JWT} from idp", "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc charged", "4eC39HqLyjWDarjtT1zdp7dc"),
        ("stripe sk_test_BQokikJOvBiI2HlWgH4olfQ2", "BQokikJOvBiI2HlWgH4olfQ2"),
        ("restricted rk_live_51H8abcdefghijklmnop", "51H8abcdefghijklmnop"),
        (f"maps {GOOGLE_KEY} quota", GOOGLE_KEY),
        ("cache redis://:s3cretpw@cache:6379/0", "s3cretpw"),
        ("amqp://:p@ss@rabbit/vhost", "p@ss"),
        ("pwd=Tr0ub4dor", "Tr0ub4dor"),
        ("db_pwd: Tr0ub4dor", "Tr0ub4dor"),
        ("pass=correcthorse", "correcthorse"),
        ("SMTP_PASS=correcthorse", "correcthorse"),
        ('{"dbPass": "correcthorse"}', "correcthorse"),
        ("passphrase: battery staple", "battery"),
        ("gpg_passphrase=batterystaple", "batterystaple"),
        ('{"password": "ab\\"cd"}', "cd"),
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
        "AKIA1234 is too short, AKIAIOSFODNN7EXAMPLEX too long, akiaiosfodnn7example lower case",
        "ghp_short and ghx_" + "a" * 36 + " are no GitHub tokens",
        "xoxz-1234567890 and xoxb-123 are no Slack tokens",
        "https://hooks.slack.com/ and https://slack.com/services/T0001 are no webhooks",
        "eyJhbGciOiJIUzI1NiJ9 alone, eyJabc.def with two parts",
        "pk_live_4eC39HqLyjWDarjtT1zdp7dc is publishable, sk_live_short",
        "AIzaShort and AIza" + "b" * 36 + " are no Google keys",
        "http://host:8080/path?mail=a@b.com and redis://cache:6379",
        "the test passed, passenger=12 compass=north bypass=on",
        "passing=1 passes: 3 passive=yes",
        "cwd=/srv pwdump=1",
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


def test_a_value_is_filtered_whatever_its_quoting_and_quotes_stay() -> None:
    redactor = Redactor()
    assert redactor.text('{"password": "hunter2", "user": "bob"}') == f'{{"password": "{FILTERED}", "user": "bob"}}'
    assert redactor.text("secret='a b c' next") == f"secret='{FILTERED}' next"
    assert redactor.text('token="unterminated and the rest') == f'token="{FILTERED}'


def test_pairs_inside_the_value_of_another_key_are_found() -> None:
    assert Redactor().text('msg: "login password=hunter2 failed"') == f'msg: "login password={FILTERED} failed"'


def test_extra_keys_apply_to_pairs_in_text_too() -> None:
    assert Redactor(extra_keys=["pin"]).text("card pin=1234 ok") == f"card pin={FILTERED} ok"


def test_what_is_already_filtered_is_not_counted_again() -> None:
    redactor = Redactor()
    once = redactor.text("password=hunter2 Authorization: Bearer abcdefgh token=xoxb-1234567890-abc")
    counted = redactor.redactions
    assert redactor.text(once) == once
    assert redactor.redactions == counted


def test_a_record_is_cut_before_it_is_redacted() -> None:
    record = {"message": "password=" + "x" * (2 * MAX_TEXT),
              "extra": {"token": "t", "n": 1, "body": ["y" * (MAX_TEXT + 3)]},
              "exception": {"type": "E", "message": "AKIAIOSFODNN7EXAMPLE", "stacktrace": "s" * (MAX_TEXT + 5)}}
    Redactor().record(record)
    assert record["message"].startswith(f"password={FILTERED}")
    assert record["message"] == f"password={FILTERED} [truncated {MAX_TEXT + 9} characters]"
    assert record["exception"] == {"type": "E", "message": FILTERED,
                                   "stacktrace": "s" * MAX_TEXT + "... [truncated 5 characters]"}
    assert record["extra"] == {"token": FILTERED, "n": 1, "body": ["y" * MAX_TEXT + "... [truncated 3 characters]"]}


def test_a_record_is_cut_even_with_redaction_off() -> None:
    record = {"message": "password=" + "x" * MAX_TEXT, "extra": {"token": "t"}, "exception": None}
    Redactor(enabled=False).record(record)
    assert record["message"] == "password=" + "x" * (MAX_TEXT - 9) + "... [truncated 9 characters]"
    assert record["extra"] == {"token": "t"}


def test_a_million_distinct_key_names_keep_the_answer_right_and_the_memory_bounded() -> None:
    """Whether a key names a secret is remembered, for at most 4,096 keys of at most 256 characters."""
    redactor = Redactor()
    for n in range(20_000):  # as from an attacker's ever-new extra keys: the memory is emptied when full
        assert not redactor.is_secret_key(f"field_{n}")
        assert redactor.is_secret_key(f"api_token_{n}")
    long_secret = "x" * 10_000 + "_password"
    assert redactor.is_secret_key(long_secret) and redactor.is_secret_key(long_secret)
    remembered = redactor._secret_keys  # the bound is what this test is about
    assert 0 < len(remembered) <= 4096 and all(len(key) <= 256 for key in remembered)
