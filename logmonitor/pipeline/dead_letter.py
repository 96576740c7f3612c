"""The dead-letter value of DESIGN section 3, bounded so the DLQ topic always accepts it."""

from __future__ import annotations

import base64
import codecs
import time

from logmonitor import compact_json
from logmonitor.pipeline.records import MAX_RECORD_BYTES
from logmonitor.timestamps import iso_timestamp

__all__ = ["KEPT_RAW_BYTES", "dead_letter", "dead_letter_from"]

# A letter keeps at most this much of its record: escaped as JSON (up to 6 bytes per byte) or
# base64, it stays under the topics' 8 MiB max.message.bytes. The source offset finds the rest.
KEPT_RAW_BYTES = MAX_RECORD_BYTES


def dead_letter(raw: bytes | None, reason: str, topic: str, partition: int, offset: int,
                index: int | None = None) -> bytes:
    """The letter of a record read from Kafka: its ``source`` is ``{topic, partition, offset}``.

    ``index``: the record's place in the OTLP batch its source record carries (``source.index``).
    """
    source: dict[str, object] = {"topic": topic, "partition": partition, "offset": offset}
    if index is not None:
        source["index"] = index
    return dead_letter_from(raw, reason, source)


def dead_letter_from(raw: bytes | None, reason: str, source: dict[str, object]) -> bytes:
    """``{reason, raw, raw_encoding, source, received_at}``; ``raw`` as text if UTF-8, else base64.

    ``source`` says where the record came from: a Kafka offset, or an ingest request.

    A record longer than ``KEPT_RAW_BYTES`` keeps its start (cut at a character boundary) and
    the letter adds ``raw_truncated: true`` and ``raw_bytes``, the record's whole length.
    """
    payload = raw or b""
    kept = payload[:KEPT_RAW_BYTES]
    whole = len(kept) == len(payload)
    try:  # an incomplete character at the cut is left out, not taken for invalid text
        text, encoding = codecs.getincrementaldecoder("utf-8")().decode(kept, final=whole), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(kept).decode(), "base64"
    letter: dict[str, object] = {"reason": reason, "raw": text, "raw_encoding": encoding}
    if not whole:
        letter.update(raw_truncated=True, raw_bytes=len(payload))
    return compact_json.dumps({
        **letter, "source": source,
        "received_at": iso_timestamp(time.time()),
    })
