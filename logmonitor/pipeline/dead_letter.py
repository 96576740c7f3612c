"""The dead-letter value of DESIGN section 3, bounded so the DLQ topic always accepts it.

A letter keeps its record as it came, unless the record is another producer's (not redacted by
our handler): that copy is redacted as a message is (DESIGN section 6), and like a message it
keeps at most ``MAX_TEXT`` of the record (redaction scans what it keeps, ~20 ms for 64 KiB of
the worst text); the source offset finds the whole record.
"""

from __future__ import annotations

import base64
import codecs
import time

from logmonitor import compact_json
from logmonitor.handler.redaction import MAX_TEXT, Redactor
from logmonitor.pipeline.records import MAX_RECORD_BYTES
from logmonitor.timestamps import iso_timestamp

__all__ = ["KEPT_RAW_BYTES", "REDACTED_RAW_BYTES", "dead_letter", "dead_letter_from"]

# A letter keeps at most this much of its record: escaped as JSON (up to 6 bytes per byte) or
# base64, it stays under the topics' 8 MiB max.message.bytes. The source offset finds the rest.
KEPT_RAW_BYTES = MAX_RECORD_BYTES
REDACTED_RAW_BYTES = MAX_TEXT  # of a record the letter redacts


def dead_letter(raw: bytes | None, reason: str, topic: str, partition: int, offset: int,
                index: int | None = None, *, redactor: Redactor | None = None) -> bytes:
    """The letter of a record read from Kafka: its ``source`` is ``{topic, partition, offset}``.

    ``index``: the record's place in the OTLP batch its source record carries (``source.index``).
    ``redactor``: for another producer's record (see :func:`dead_letter_from`).
    """
    source: dict[str, object] = {"topic": topic, "partition": partition, "offset": offset}
    if index is not None:
        source["index"] = index
    return dead_letter_from(raw, reason, source, redactor)


def dead_letter_from(raw: bytes | None, reason: str, source: dict[str, object],
                     redactor: Redactor | None = None) -> bytes:
    """``{reason, raw, raw_encoding, source, received_at}``; ``raw`` as text if UTF-8, else base64.

    ``source`` says where the record came from: a Kafka offset, or an ingest request.

    A record longer than ``KEPT_RAW_BYTES`` keeps its start (cut at a character boundary) and
    the letter adds ``raw_truncated: true`` and ``raw_bytes``, the record's whole length.
    With a ``redactor`` (another producer's record), it keeps ``REDACTED_RAW_BYTES``, redacted (the
    text of bytes that are not UTF-8 too, read byte for character), and the letter adds ``raw_redacted: true``.
    """
    payload = raw or b""
    kept = payload[:KEPT_RAW_BYTES if redactor is None else REDACTED_RAW_BYTES]
    whole = len(kept) == len(payload)
    try:  # an incomplete character at the cut is left out, not taken for invalid text
        text = codecs.getincrementaldecoder("utf-8")().decode(kept, final=whole)
    except UnicodeDecodeError:
        if redactor is not None:
            kept = redactor.text(kept.decode("latin-1")).encode("latin-1")
        text, encoding = base64.b64encode(kept).decode(), "base64"
    else:
        text, encoding = text if redactor is None else redactor.text(text), "utf-8"
    letter: dict[str, object] = {"reason": reason, "raw": text, "raw_encoding": encoding}
    if not whole:
        letter.update(raw_truncated=True, raw_bytes=len(payload))
    if redactor is not None:
        letter["raw_redacted"] = True
    return compact_json.dumps({
        **letter, "source": source,
        "received_at": iso_timestamp(time.time()),
    })
