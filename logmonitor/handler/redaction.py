"""Secret redaction (DESIGN section 6): secrets become ``[Filtered]`` before a record leaves.

Used by the handler on every record, and by the router on every record our handler did not
redact: the handler marks what it sends with the ``REDACTED_HEADER`` Kafka header.

Every pattern here runs in time linear in its input, with the standard ``re`` module: each one
starts at a literal or at the first character of a run (a negative lookbehind of the run's own
characters, so a run of ``n`` characters is a candidate once, not ``n`` times), and crosses runs
with possessive quantifiers (``*+``, ``++``, ``{m,}+``), which never give characters back. A
record's free text is also cut to ``MAX_TEXT`` characters before it is scanned
(``Redactor.record``). ``tests/unit/test_redaction_properties.py`` times 64 KiB of adversarial text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["FILTERED", "MAX_TEXT", "REDACTED_HEADER", "REDACTION_RULES", "Redactor", "cut"]

FILTERED = "[Filtered]"
MAX_TEXT = 64 * 1024  # characters of a message, exception message or stack trace that are kept
REDACTED_HEADER = "logmonitor-redacted"
REDACTION_RULES = b"1"  # the header's value: these rules; a router redacts records marked otherwise again

# Key names are compared with separators removed: "X-Auth-Token" -> "xauthtoken".
_SECRET_KEY_PARTS = (
    "password", "passwd", "passphrase", "secret", "token", "apikey", "accesstoken", "authorization",
    "credential", "mysqlpwd", "privatekey", "cookie", "session", "auth(?!or)",
)
_SECRET_KEY_WORDS = frozenset({"otp", "pwd", "pass"})  # whole words only: not "compass", "passed"
_SEPARATORS = re.compile(r"[\s_.\-]+")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]++|[A-Z]+(?![a-z])")  # "dbPass" -> db, Pass; "SMTP_PASS" -> SMTP, PASS

_PEM = re.compile(
    r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----.*?(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|\Z)", re.DOTALL,
)
# Secrets recognisable by their form. Every alternative begins with a literal character, so that
# the regex engine skips positions where none could start, and a branch fails at its first
# character; the lookbehind after that character is the boundary before it. A branch with a group
# keeps what is outside the group (the group becomes [Filtered]); otherwise the whole match goes.
_FORMS = re.compile("|".join((
    r"A(?<![A-Za-z0-9]A)(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])",  # AWS access key id
    r"A(?<![A-Za-z0-9_-]A)Iza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])",  # Google API key
    r"g(?<![A-Za-z0-9_]g)h[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])",  # GitHub token, classic
    r"g(?<![A-Za-z0-9_]g)ithub_pat_[A-Za-z0-9_]{22,}+",  # GitHub token, fine-grained
    r"x(?<![A-Za-z0-9_-]x)(?:ox[abeprs]|app)-[A-Za-z0-9-]{10,}+",  # Slack token
    r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/+-]++)",  # Slack webhook URL
    r"e(?<![A-Za-z0-9_-]e)yJ[A-Za-z0-9_-]++\.[A-Za-z0-9_-]++\.[A-Za-z0-9_-]*+",  # JWT
    r"s(?<![A-Za-z0-9_]s)k_(?:live|test)_[A-Za-z0-9]{10,}+",  # Stripe secret key
    r"r(?<![A-Za-z0-9_]r)k_(?:live|test)_[A-Za-z0-9]{10,}+",  # Stripe restricted key
    r"B(?<!\wB)(?:earer|asic|EARER|ASIC)\s++([A-Za-z0-9._~+/-]{6,}+=*+)",  # Authorization values
    r"b(?<!\wb)(?:earer|asic)\s++([A-Za-z0-9._~+/-]{6,}+=*+)",
    # scheme://user:password@host, the user may be empty; the password runs to the last @ of the authority
    r"://[^\s:/@]*+:([^\s/]+)@",
)))
# A key (a whole run of key characters) and its separator: `key=`, `key: `, `"key": `.
_KEY = re.compile(r"(?<![\w.-])(?P<key>[\w.-]++)[\"']?\s*+[=:]\s*+")
# The value after it; its group named like the alternative is what is replaced (quotes stay).
_VALUE = re.compile(
    r"\"(?P<double>(?:[^\"\\]++|\\.)*+)\"?|'(?P<single>[^']*+)'?"
    r"|(?P<bare>(?i:(?:bearer|basic|token)\s++)?[^\s,;&\"'}]++)"
)
_ALREADY_FILTERED = re.compile(r"(?i:(?:bearer|basic|token)\s++)?\[Filtered\]")
_CARD = re.compile(r"\d(?<!\w\d)(?:[ -]?\d){12,18}\b")  # bounded: at most 37 characters from each start
_CARD_DIGITS = 13  # the fewest a card number has
_SECRET_KEYS_REMEMBERED, _REMEMBERED_KEY_CHARS = 4096, 256  # keys remembered as secret or not: 1 M characters at most
_DIGITS = b"0123456789"
_NON_DIGITS = re.compile(r"\D")


def cut(text: str) -> str:
    """``text`` cut to ``MAX_TEXT`` characters, saying how many were cut."""
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]}... [truncated {len(text) - MAX_TEXT} characters]"


def _filter_cards(text: str) -> tuple[str, int]:
    """``text`` with Luhn-valid card numbers replaced, and how many."""
    if text.isascii() and len(text) - len(text.encode().translate(None, _DIGITS)) < _CARD_DIGITS:
        return text, 0  # too few digits for a card: most texts, spared the regex (which tries every digit)
    parts: list[str] = []
    done = 0
    for match in _CARD.finditer(text):
        digits = _NON_DIGITS.sub("", match[0])
        if 13 <= len(digits) <= 19 and _luhn_valid(digits):
            parts += (text[done:match.start()], FILTERED)
            done = match.end()
    if not parts:
        return text, 0
    parts.append(text[done:])
    return "".join(parts), len(parts) // 2


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _filtered_form(match: re.Match[str]) -> str:
    """The replacement of a ``_FORMS`` match: ``[Filtered]`` for its group, or for all of it."""
    if match.lastindex is None:
        return FILTERED
    whole, (start, end) = match.span(), match.span(match.lastindex)
    return f"{match.string[whole[0]:start]}{FILTERED}{match.string[end:whole[1]]}"


class Redactor:
    """Replaces secrets in text and in nested JSON-like values; counts what it replaced.

    Args:
        enabled: False turns redaction off entirely.
        extra_keys: more key names to treat as secret (matched like the built-in ones).
        extra_patterns: more regular expressions whose whole match is replaced (they run on
            the cut text; keep them linear too).
    """

    def __init__(self, *, enabled: bool = True, extra_keys: Iterable[str] = (),
                 extra_patterns: Iterable[str | re.Pattern[str]] = ()) -> None:
        self.enabled = enabled
        self.redactions = 0
        extra = (re.escape(_SEPARATORS.sub("", key.lower())) for key in extra_keys)
        self._secret_part = re.compile("|".join((*_SECRET_KEY_PARTS, *extra)))
        self._extra_patterns = tuple(re.compile(pattern) for pattern in extra_patterns)
        self._secret_keys: dict[str, bool] = {}  # by key, up to _SECRET_KEYS_REMEMBERED (then emptied)

    def is_secret_key(self, key: str) -> bool:
        """Whether a mapping key (or ``k=v`` name) names a secret; remembered (records repeat their keys)."""
        if len(key) > _REMEMBERED_KEY_CHARS:
            return self._names_secret(key)
        secret = self._secret_keys.get(key)
        if secret is None:
            if len(self._secret_keys) >= _SECRET_KEYS_REMEMBERED:
                self._secret_keys.clear()
            secret = self._secret_keys[key] = self._names_secret(key)
        return secret

    def _names_secret(self, key: str) -> bool:
        flat = _SEPARATORS.sub("", key.lower())
        if self._secret_part.search(flat):
            return True
        if "otp" not in flat and "pwd" not in flat and "pass" not in flat:  # the common case, at once
            return False
        return any(word.lower() in _SECRET_KEY_WORDS for word in _WORDS.findall(key))

    def text(self, text: str) -> str:
        """``text`` with every secret replaced by ``[Filtered]``."""
        if not self.enabled or not text:
            return text
        count = 0
        if "-----BEGIN " in text:  # these checks spare most texts a regex call (the handler's CPU, P2)
            text, count = _PEM.subn(FILTERED, text)
        text, forms = _FORMS.subn(_filtered_form, text)
        count += forms
        if "=" in text or ":" in text:
            text, pairs = self._pairs(text)
            count += pairs
        text, cards = _filter_cards(text)
        count += cards
        for pattern in self._extra_patterns:
            text, extra = pattern.subn(FILTERED, text)
            count += extra
        self.redactions += count
        return text

    def _pairs(self, text: str) -> tuple[str, int]:
        """``text`` with the values of secret-named ``key=value`` pairs replaced, and how many."""
        parts: list[str] = []
        done = count = 0
        found = _KEY.search(text)
        while found is not None:
            resume = found.end()  # the value of a key that is no secret is searched for pairs too
            if self.is_secret_key(found["key"]):
                value = _VALUE.match(text, resume)
                if value is not None:
                    kind = value.lastgroup or "bare"
                    start, end = value.span(kind)
                    if start < end and not _ALREADY_FILTERED.fullmatch(text, start, end):
                        parts += (text[done:start], FILTERED)
                        done = end
                        count += 1
                    resume = value.end()
            found = _KEY.search(text, resume)
        parts.append(text[done:])
        return "".join(parts), count

    def value(self, value: Any) -> Any:
        """A JSON-like value with secret-named keys and secrets inside strings (each cut first) replaced."""
        if not self.enabled:
            return value
        if isinstance(value, str):
            return self.text(cut(value))
        if isinstance(value, dict):
            return {key: self._field(str(key), item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value

    def record(self, record: dict[str, Any]) -> None:
        """Cut and redact a wire record's free text in place: message, exception, breadcrumbs, ``extra``."""
        record["message"] = self.text(cut(record["message"]))
        exception = record.get("exception")
        if exception:
            for field in ("message", "stacktrace"):
                if exception.get(field):
                    exception[field] = self.text(cut(exception[field]))
        for crumb in record.get("breadcrumbs") or ():
            crumb["message"] = self.text(cut(crumb["message"]))
        record["extra"] = self.value(record.get("extra") or {})

    def _field(self, key: str, value: Any) -> Any:
        if value is not None and value != "" and self.is_secret_key(key):
            self.redactions += 1
            return FILTERED
        return self.value(value)
