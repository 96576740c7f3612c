"""A message as its template (grouping v2): the parts that vary between two events of one bug masked.

Masked, in this order (a later mask never sees what an earlier one replaced): quoted and
bracketed values, URLs, e-mail addresses, UUIDs, IPv6 and MAC addresses, dates and times (ISO
8601, RFC 2822 and HTTP, ``2024-01-02 03:04:05``, access-log ``02/Jan/2024:10:00:00 +0000``,
syslog, ``12:34:56.789``), IPv4 addresses, host names (a dotted name under a known top-level
domain), long base64 tokens, hex numbers, durations (``12ms``, ``1.5s``, ``3 minutes``), and
numbers.

Linear time on hostile text, pattern by pattern: a pattern whose match can be long starts only
where the run of characters it consumes starts (a lookbehind refuses every later position of
that run), and its quantifiers are possessive, so a failed attempt neither backtracks nor is
tried again inside the same run; every other pattern's match is bounded by a constant.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable

from logmonitor.pipeline.grouping.v1 import UUID, mask_bracketed

__all__ = ["MAX_MESSAGE", "MAX_TEMPLATES", "parameterise", "template"]

MAX_MESSAGE = 2000  # characters of a message grouped on (what version 1 cut it to)

# A single quote opens only where no word precedes it and closes only where none follows, so the
# apostrophes of "can't" and "user's" are text; each attempt scans to the next quote, no further.
_QUOTED = re.compile(r"(?<!\w)'[^']*+'(?!\w)|\"[^\"]*+\"")
_URL = re.compile(r"(?<![\w+.-])[A-Za-z][\w+.-]*+://\S*+")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++")
# Candidates only: hex digits, colons and dots with a colon among the first five, checked by ipaddress.
_IPV6 = re.compile(r"(?<![\w:.%])(?=[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:.]{2,45}+(?:%[\w.-]{1,16}+)?(?![\w:.%])")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_CLOCK = r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
_ZONE = r"(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})(?![\w:]))?"
_TIME = re.compile(
    r"(?<![\w:.])(?:"
    rf"\d{{4}}([-/])\d{{2}}\1\d{{2}}(?:[T ]\d{{2}}:\d{{2}}(?::\d{{2}})?(?:[.,]\d{{1,9}})?)?{_ZONE}"  # ISO 8601
    rf"|(?:{_WEEKDAY},?\s)?\d{{1,2}}[\s-]{_MONTH}[\s-]\d{{2,4}}(?:\s{_CLOCK})?{_ZONE}"  # RFC 2822, HTTP
    rf"|\d{{1,2}}/{_MONTH}/\d{{4}}(?::\d{{2}}:\d{{2}}:\d{{2}})?(?:\s[+-]\d{{4}})?"  # access logs
    rf"|(?:{_WEEKDAY}\s)?{_MONTH}\s{{1,2}}\d{{1,2}}(?:,\s\d{{4}})?(?:\s{_CLOCK}(?:\s\d{{4}})?)?{_ZONE}"  # syslog, ctime
    rf"|\d{{1,2}}[./]\d{{1,2}}[./]\d{{4}}(?:\s{_CLOCK})?"  # 02.01.2024, 01/02/2024
    rf"|{_CLOCK}(?:\s?[AaPp][Mm])?{_ZONE}"  # a time of day
    r")"
)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\d)")
_DOTTED = re.compile(r"(?<![\w.-])[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++")
# The top-level domains that make a dotted name a host name: common ones and those of private networks,
# not every two-letter one (.py, .md, .rs, .sh are file names) nor words (logger.info, self.app, user.home).
_DOMAINS = frozenset((
    "com", "net", "org", "io", "dev", "ai", "co", "cloud", "biz", "us", "uk", "de", "fr", "nl", "eu", "ch", "jp",
    "cn", "ru", "br", "au", "ca", "local", "localdomain", "internal", "lan", "corp", "arpa", "svc", "cluster",
    "example",
))
# Not a decimal's fraction and exponent (9.4595683159e-211); a JWT's parts, after "J9.", are tokens.
_TOKEN = re.compile(r"(?<![\w+/=-])(?!(?<=\d\.)\d)[A-Za-z0-9+/_-]{16,}+={0,2}+(?![\w+/=-])")
_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]++")
# Hex numbers (0x..., or 8 and more hex digits with a digit among them), not part of a decimal. They
# count as numbers: an id that grows past eight digits, or has no letter this time, stays in its group.
_HEX = re.compile(r"(?<!\d\.)\b(?:0x[0-9a-fA-F]++|(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}+)\b(?!\.\d)")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_NUMBER = re.compile(r"\d++(?:\.\d++)?+(?:[eE][+-]?\d++)?+")  # 1.5e-05 too
_UNITS = r"(?:ns|us|µs|ms|s|m|h|d)"
_DURATION = re.compile(
    rf"(?<![\w.])(?:(?:\d++(?:\.\d++)?+{_UNITS}){{2,}}+"  # Go's 1h2m3.5s
    r"|\d++(?:\.\d++)?+\s?(?:nanos|micros|millis|ns|us|µs|ms|s|sec|secs|seconds?|milliseconds?|microseconds?"
    r"|nanoseconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?))(?!\w)"
)


_TEMPLATES: dict[bytes, str] = {}  # by the text (UTF-8) with its ASCII digits as zeros; emptied at MAX_TEMPLATES
MAX_TEMPLATES = 1024  # of at most MAX_MESSAGE characters each (4-16 MiB at worst); a service has a few dozen
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")  # bytes: 10x faster than str.translate


def template(message: str) -> str:
    """The message's template: cut to :data:`MAX_MESSAGE` characters, then :func:`parameterise`; memoised.

    Texts that differ only in the value of their ASCII digits have the same template: every
    mask decides by character class (a digit, a word character, a hex digit), never by a digit's
    value, and the last one (numbers) leaves no digit behind. The one exception is an IPv6
    address with an IPv4 tail, whose octets' values decide whether it is an address: a text with
    both ``:`` and ``.`` is not memoised. So one bug's events ("order 17 failed", "order 18
    failed") cost one dictionary lookup each after the first.
    """
    text = message[:MAX_MESSAGE]
    if ":" in text and "." in text:
        return parameterise(text)
    key = text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZEROS)
    found = _TEMPLATES.get(key)
    if found is None:
        if len(_TEMPLATES) >= MAX_TEMPLATES:
            _TEMPLATES.clear()
        found = _TEMPLATES[key] = parameterise(text)
    return found


def parameterise(text: str) -> str:
    """``text`` with every variable part replaced by a token naming its kind (``#url``, ``#time``, ``#n``...)."""
    text = mask_bracketed(_QUOTED.sub("#str", text))
    for pattern, replacement, needle in _MASKS:
        if needle in text:  # a pass costs a few microseconds; most messages have no URL, e-mail or colon
            text = pattern.sub(replacement, text)
    return text


def _address(match: re.Match[str]) -> str:
    """An IPv6 address (``#ip``) or a MAC address (``#mac``); else the text as it was."""
    if _MAC.fullmatch(match[0]):
        return "#mac"
    try:
        ipaddress.IPv6Address(match[0].partition("%")[0])
    except ValueError:
        return match[0]
    return "#ip"


def _host(match: re.Match[str]) -> str:
    name = match[0]
    return "#host" if name[name.rfind(".") + 1:].lower() in _DOMAINS else name


def _token(match: re.Match[str]) -> str:
    """A long base64 token (an id, a key, a signature), not a long word or name.

    A token has digits; or both cases and ``+/=_``; or changes case often: a name in camel case
    changes between upper and lower case about once in four letters (``NullPointerException``:
    5 in 20), random base64 about once in two. Of random tokens without a digit, a few stay
    unmasked: 1 in 50 of 16 characters, 1 in 300 of 24, 1 in 1,500 of 32 (measured).
    """
    token = match[0]
    if _HEX_DIGITS.fullmatch(token):  # the hex mask's (numbers are hex too): one kind whatever its length
        return token
    if any(character.isdigit() for character in token):
        return "#token"
    if not any(character.isupper() for character in token) or not any(character.islower() for character in token):
        return token
    changes = sum(first.isupper() != second.isupper() for first, second in itertools.pairwise(token))
    return "#token" if changes >= 0.45 * len(token) or any(mark in token for mark in "+/=_") else token


_MASKS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str], str], ...] = (  # in order; "" is in any text
    (_URL, "#url", "://"), (_EMAIL, "#email", "@"), (UUID, "#uuid", ""), (_IPV6, _address, ":"), (_TIME, "#time", ""),
    (_IPV4, "#ip", "."), (_DOTTED, _host, "."), (_TOKEN, _token, ""), (_HEX, "#n", ""), (_DURATION, "#duration", ""),
    (_NUMBER, "#n", ""),
)
