"""Properties of grouping v2 on generated input: any values of a kind give one template; hostile text stays linear.

The message masks and the stack reader run on text an attacker writes: 64 KiB of what their
patterns look for (long runs, unclosed parts, near misses) must be read in well under a second
(a liveness bound, as for the redactor in test_redaction_properties.py, not a benchmark).
"""

from __future__ import annotations

import base64
import random
import string
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logmonitor.pipeline.fingerprint import fingerprint
from logmonitor.pipeline.grouping.frames import frames
from logmonitor.pipeline.grouping.message import MAX_MESSAGE, parameterise, template

HOSTILE_SIZE = 64 * 1024

SEEDS = st.integers(0, 2**64)
LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
TIMES = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
VALUES = {
    "ipv4": st.ip_addresses(v=4).map(str),
    "ipv6": st.ip_addresses(v=6).map(str),
    "email": st.builds("{}.{}@{}.{}.com".format, LABEL, LABEL, LABEL, LABEL),
    "url": st.builds("https://{}.example.com/{}?id={}".format, LABEL, LABEL, st.integers(0, 10**9)),
    "host": st.builds("{}-{}.{}.internal".format, LABEL, st.integers(0, 999), LABEL),
    "uuid": st.uuids().map(str),
    "iso 8601": TIMES.map(lambda moment: moment.isoformat()),
    "iso with a space": TIMES.map(lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S")),
    "rfc 2822": TIMES.map(format_datetime),
    "http date": TIMES.map(lambda moment: moment.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    "access log": TIMES.map(lambda moment: moment.strftime("%d/%b/%Y:%H:%M:%S +0000")),
    "time of day": TIMES.map(lambda moment: moment.strftime("%H:%M:%S.%f")[:12]),
    "duration": st.builds("{}{}".format, st.integers(0, 10**6), st.sampled_from(["ms", "s", "m", "h", "us", "ns"])),
    "go duration": st.timedeltas(timedelta(seconds=61), timedelta(days=1)).map(
        lambda span: f"{span.seconds // 3600}h{span.seconds // 60 % 60}m{span.seconds % 60}s"),
    # Random bytes from a seed, as real tokens are (a shrunk b"\0" * 24 is "AAAA...": a word, not a token), of
    # one size, as one bug's tokens are; with a digit or a + or /: the rare others are counted below.
    "base64 token": SEEDS.map(lambda seed: base64.b64encode(random.Random(seed).randbytes(24)).decode()).filter(
        lambda token: any(character.isdigit() or character in "+/" for character in token)),
    "sha-1": SEEDS.map(lambda seed: random.Random(seed).randbytes(20).hex()),
    "number": st.one_of(st.integers(0, 10**30).map(str), st.floats(0, 1e12, allow_nan=False).map(str)),
}


@pytest.mark.parametrize("kind", sorted(VALUES))
@given(data=st.data())
def test_any_two_values_of_a_kind_give_one_template(kind: str, data: st.DataObject) -> None:
    first, second = data.draw(VALUES[kind]), data.draw(VALUES[kind])
    message = "Cannot sync {} for the nightly report"
    assert template(message.format(first)) == template(message.format(second)), (first, second)


def test_few_random_tokens_without_a_digit_or_a_symbol_stay_unmasked() -> None:
    """Such a token is masked when its case changes often; of 10,000 random 32-character ones 5 stay (seeded)."""
    tokens = [base64.b64encode(random.Random(seed).randbytes(24)).decode() for seed in range(10_000)]
    assert sum(template(f"key {token} revoked") != "key #token revoked" for token in tokens) <= 5


PIECES = st.one_of(*VALUES.values(), st.text(string.printable, max_size=12), st.text(max_size=6), st.sampled_from([
    "::ffff:1.2.3.4", "1.2.3.300", "01.2.3.4", "0x1f", "12ms", "1.5e-05", "J9.eyJhbGci", "#n", "'1'", "[1]", ":", ".",
]))


@given(st.lists(PIECES, max_size=8), SEEDS)
def test_texts_that_differ_only_in_their_digits_share_one_memoised_template_rightly(pieces: list[str],
                                                                                   seed: int) -> None:
    """``template`` memoises by the text with its ASCII digits as zeros: whatever the digits, the template is right."""
    text = " ".join(pieces)
    rng = random.Random(seed)
    other = "".join(rng.choice(string.digits) if character in string.digits else character for character in text)
    assert template(text) == parameterise(text[:MAX_MESSAGE])
    assert template(other) == parameterise(other[:MAX_MESSAGE]), "found as the first text's entry, if memoised"


@given(st.text(max_size=300))
def test_any_text_is_grouped_and_stacks_read_without_error(text: str) -> None:
    fingerprint({"service": "s", "message": text, "exception": {"type": "E", "stacktrace": text}})
    assert all(frame.module or frame.function for frame in frames(text))


def runs() -> dict[str, str]:
    """64 KiB each: long runs of what the message masks and the stack reader look for, and random text."""
    rng = random.Random(20)
    pieces = {
        "quotes": "'a", "apostrophes": "a'", "brackets": "[(<{", "url schemes": "a+b.c-", "url starts": "a://",
        "e-mail locals": "a.b+", "e-mail ats": "a@", "e-mail domains": "a@b-", "e-mail dots": "@a.b",
        "ipv6 colons": "a:", "ipv6 pairs": "1::", "ipv6 zones": "::1%", "macs": "0a:",
        "iso dates": "2024-01-0", "clock parts": "12:34:", "months": "Jan ", "weekdays": "Tue, 0",
        "access log dates": "02/Jan/", "ipv4 parts": "1.2.", "dotted names": "a.", "hyphenated names": "a-.",
        "base64": "aB1+", "base64 words": "aBcD", "padding": "a=", "hex": "0xa", "hex runs": "deadbeef",
        "durations": "1h2", "units": "1 m", "digits": "1", "decimals": "1.1", "uuids": "550e8400-e29b-",
        "python frames": 'File "', "python frame lines": 'File "a", line 1, in ', "at": "at ",
        "jvm frames": "at a.b(", "node frames": "at a (", "node locations": "at a (/b:1:", "generated classes": "a$$",
        "go locations": "\ta.go:1", "go headers": "goroutine ", "newlines": "\n", "tabs": "\t",
    }
    texts = {name: (run * (HOSTILE_SIZE // len(run) + 1))[:HOSTILE_SIZE] for name, run in pieces.items()}
    texts["random printable"] = "".join(rng.choice(string.printable) for _ in range(HOSTILE_SIZE))
    parts = list(pieces.values())
    texts["random pieces"] = "".join(rng.choice(parts) for _ in range(HOSTILE_SIZE // 3))[:HOSTILE_SIZE]
    return texts


@pytest.mark.parametrize(("name", "text"), sorted(runs().items()))
def test_64_kib_of_hostile_text_is_grouped_in_well_under_a_second(name: str, text: str) -> None:
    started = time.perf_counter()
    parameterise(text)  # uncut: the router cuts messages to 2,000 characters first
    frames(text)
    fingerprint({"service": "s", "message": text, "exception": {"type": "E", "stacktrace": text}})
    assert time.perf_counter() - started < 1.0, name
