"""Secret redaction (DESIGN section 6): secrets become ``[Filtered]`` before a record leaves.

Used by the handler on every record and by the router again, for producers that are not ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["FILTERED", "Redactor"]

FILTERED = "[Filtered]"

# Key names are compared with separators removed: "X-Auth-Token" -> "xauthtoken".
_SECRET_KEY_PARTS = (
    "password", "passwd", "secret", "token", "apikey", "accesstoken", "authorization",
    "credential", "mysqlpwd", "privatekey", "cookie", "session",
)
_AUTH_NOT_AUTHOR = re.compile(r"auth(?!or)")
_SEPARATORS = re.compile(r"[\s_.\-]+")
_WORDS = re.compile(r"[a-z0-9]+")

_KEY_WORD = (
    r"(?:passw(?:or)?d|secret|token|api[_-]?key|access[_-]?token|auth(?!or)|authorization"
    r"|credentials?|mysql[_-]?pwd|private[_-]?key|otp|cookie|session)"
)
# `key=value`, `key: value`, `"key": "value"` where the key is named like a secret.
_PAIR = re.compile(
    r"(?i)(?P<key>\b[\w.-]*" + _KEY_WORD + r"[\w.-]*)(?P<sep>[\"']?\s*[=:]\s*)"
    r"(?P<value>(?:(?:Bearer|Basic|Token)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s,;&\"'}]+))"
)
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]{6,}=*")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@]+:)([^\s@/]+)(@)")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL)
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")


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


class Redactor:
    """Replaces secrets in text and in nested JSON-like values; counts what it replaced.

    Args:
        enabled: False turns redaction off entirely.
        extra_keys: more key names to treat as secret (matched like the built-in ones).
        extra_patterns: more regular expressions whose whole match is replaced.
    """

    def __init__(self, *, enabled: bool = True, extra_keys: Iterable[str] = (),
                 extra_patterns: Iterable[str | re.Pattern[str]] = ()) -> None:
        self.enabled = enabled
        self.redactions = 0
        self._extra_keys = tuple(_SEPARATORS.sub("", key.lower()) for key in extra_keys)
        self._extra_patterns = tuple(re.compile(pattern) for pattern in extra_patterns)

    def is_secret_key(self, key: str) -> bool:
        """Whether a mapping key (or ``k=v`` name) names a secret."""
        lowered = key.lower()
        flat = _SEPARATORS.sub("", lowered)
        if any(part in flat for part in _SECRET_KEY_PARTS + self._extra_keys):
            return True
        return bool(_AUTH_NOT_AUTHOR.search(flat)) or "otp" in _WORDS.findall(lowered)

    def text(self, text: str) -> str:
        """``text`` with every secret replaced by ``[Filtered]``."""
        if not self.enabled or not text:
            return text
        count = 0

        def replace_pair(match: re.Match[str]) -> str:
            nonlocal count
            if not self.is_secret_key(match["key"]) or match["value"].endswith(FILTERED):
                return match[0]
            count += 1
            return f"{match['key']}{match['sep']}{FILTERED}"

        def replace_card(match: re.Match[str]) -> str:
            nonlocal count
            digits = re.sub(r"\D", "", match[0])
            if 13 <= len(digits) <= 19 and _luhn_valid(digits):
                count += 1
                return FILTERED
            return match[0]

        text, n = _PEM.subn(FILTERED, text)
        count += n
        text, n = _BEARER.subn(lambda m: f"{m[1]} {FILTERED}", text)
        count += n
        text, n = _URL_PASSWORD.subn(lambda m: f"{m[1]}{FILTERED}{m[3]}", text)
        count += n
        text = _PAIR.sub(replace_pair, text)
        text = _CARD.sub(replace_card, text)
        for pattern in self._extra_patterns:
            text, n = pattern.subn(FILTERED, text)
            count += n
        self.redactions += count
        return text

    def value(self, value: Any) -> Any:
        """A JSON-like value with secret-named keys and secrets inside strings replaced."""
        if not self.enabled:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self._field(str(key), item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value

    def _field(self, key: str, value: Any) -> Any:
        if value is not None and value != "" and self.is_secret_key(key):
            self.redactions += 1
            return FILTERED
        return self.value(value)
