"""Properties of the redactor on generated text: idempotent, bounded, no generated secret leaks, linear time."""

from __future__ import annotations

import random
import string
import time
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logmonitor.handler.redaction import FILTERED, MAX_TEXT, Redactor

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
BASE64URL = ALNUM + "-_"
PASSWORD = ALNUM + "!#$%()*+-./<>?@[]^_|~"
PIECES = (  # what the patterns look for, and what they leave behind
    "password", "Pass", "pwd", "otp", "token", "auth", "=", ": ", '"', "'", "\\", "Bearer ", "xoxb-", "AKIA",
    "ghp_", "0123456789", "ABCDEFGHIJKLMNOP", "eyJ", ".", "@", "://", ",", ";", "&", "}", "[", "]", "-", "_", " ",
    "\n", "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "hooks.slack.com/services/",
    "4111 1111 1111 1111", "[Filtered]",
)


def chars(alphabet: str, size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size if max_size is None else max_size)


def joined(pieces: Sequence[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=80).map("".join)


def prefixed(prefixes: list[str], rest: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds("".join, st.tuples(st.sampled_from(prefixes), rest))


SECRETS = {
    "aws": prefixed(["AKIA", "ASIA"], chars(UPPER_ALNUM, 16)),
    "github": prefixed(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], chars(ALNUM, 36)),
    "github_fine_grained": st.builds("github_pat_{}_{}".format, chars(ALNUM, 22), chars(ALNUM, 59)),
    "slack": st.builds("{}-{}-{}-{}".format, st.sampled_from(["xoxb", "xoxp", "xoxa", "xoxr", "xoxs", "xapp"]),
                       chars(string.digits, 10, 13), chars(string.digits, 10, 13), chars(ALNUM, 24, 32)),
    "slack_webhook": st.builds("https://hooks.slack.com/services/T{}/B{}/{}".format,
                               chars(UPPER_ALNUM, 8), chars(UPPER_ALNUM, 8), chars(ALNUM, 24)),
    "jwt": st.builds("eyJ{}.eyJ{}.{}".format, chars(BASE64URL, 10, 60), chars(BASE64URL, 10, 200),
                     chars(BASE64URL, 20, 86)),
    "stripe": prefixed(["sk_live_", "sk_test_", "rk_live_"], chars(ALNUM, 24, 99)),
    "google": st.builds("AIza{}".format, chars(BASE64URL, 35)),
    "url_password": st.builds("redis://:{}@cache:6379".format, chars(ALNUM + "!$%*+-.", 8, 40)),
    "pwd": st.builds("pwd={}".format, chars(PASSWORD.replace("-", ""), 8, 40)),
    "pass": st.builds("SMTP_PASS: {}".format, chars(PASSWORD, 8, 40)),
    "passphrase": st.builds('"passphrase": "{}"'.format, chars(PASSWORD, 8, 40)),
}


def hidden_part(kind: str, secret: str) -> str:
    """The part of a generated secret that must not survive (a pair's key or a URL's host may)."""
    if kind == "slack_webhook":
        return secret.rsplit("/", 3)[1]
    if kind == "url_password":
        return secret[len("redis://:"):secret.rindex("@")]
    if kind in ("pwd", "pass", "passphrase"):
        return secret.split("=" if kind == "pwd" else ": ", 1)[1].strip('"')
    return secret


@given(st.text())
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = Redactor().text(text)
    assert Redactor().text(once) == once


@given(joined(PIECES))
def test_redacting_twice_changes_nothing_more_on_text_made_of_pattern_parts(text: str) -> None:
    once = Redactor().text(text)
    assert Redactor().text(once) == once


@given(st.text())
def test_the_output_is_at_most_two_and_a_half_times_the_input(text: str) -> None:
    assert len(Redactor().text(text)) <= 2.5 * len(text) + len(FILTERED)


@given(joined(["otp", "pwd", "=", ":", "1", ",", " ", "a://:", "@", '"', "'"]))
def test_the_output_bound_holds_on_the_shortest_secrets(text: str) -> None:
    assert len(Redactor().text(text)) <= 2.5 * len(text) + len(FILTERED)


@pytest.mark.parametrize("kind", sorted(SECRETS))
@given(data=st.data(), before=st.text(max_size=200), after=st.text(max_size=200))
def test_no_generated_secret_survives_in_random_text(kind: str, data: st.DataObject, before: str, after: str) -> None:
    secret = data.draw(SECRETS[kind])
    redactor = Redactor()
    result = redactor.text(f"{before} {secret} {after}")
    hidden = hidden_part(kind, secret)
    assert result.count(hidden) <= f"{before} {after}".count(hidden)  # the random text may hold it too
    assert redactor.redactions >= 1


def adversarial_texts() -> dict[str, str]:
    """64 KiB each: long runs of what the patterns look for, and random text."""
    rng = random.Random(17)
    runs = {
        "word dots": "a.", "key names": "password", "key separators": "a=", "unclosed quotes": 'password="',
        "url starts": "a://", "url users": "a://:", "url ats": "a://:@", "jwt starts": "eyJ", "jwt parts": "eyJa.",
        "bearer": "Bearer ", "aws prefixes": "AKIA", "github prefixes": "ghp_", "pem headers": "-----BEGIN ",
        "slack hooks": "hooks.slack.com/services/", "digits": "1 ", "brackets": "[", "backslashes": 'secret="\\',
        "camel keys": "PassPass", "colons": "x: ",
    }
    texts = {name: (run * (MAX_TEXT // len(run) + 1))[:MAX_TEXT] for name, run in runs.items()}
    texts["random printable"] = "".join(rng.choice(string.printable) for _ in range(MAX_TEXT))
    texts["random pattern parts"] = "".join(rng.choice(PIECES) for _ in range(MAX_TEXT // 4))[:MAX_TEXT]
    return texts


@pytest.mark.parametrize(("name", "text"), sorted(adversarial_texts().items()))
def test_64_kib_of_adversarial_text_is_redacted_in_well_under_a_second(name: str, text: str) -> None:
    started = time.perf_counter()
    Redactor().text(text)
    assert time.perf_counter() - started < 1.0, name
