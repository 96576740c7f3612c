"""NDJSON of our own records (DESIGN section 2), one a line: ``POST /api/v1/ingest``, for curl and anything else.

Each line is checked by the router's own parser, so a line the router would refuse is rejected
here with the reason the router would give; every line is forwarded in the normalised section 2
shape (ECS and OpenTelemetry JSON lines too), with a fresh id where it had none. Decoders do not
redact: the router redacts these foreign records (module ``decoded``).
"""

from __future__ import annotations

from logmonitor import compact_json
from logmonitor.ingest.decoded import Decoded, Hold, Rejected, count_bounded, hold_nothing, new_id
from logmonitor.pipeline.records import InvalidRecord, parse_record

__all__ = ["decode_ndjson"]


def decode_ndjson(body: bytes, hold: Hold = hold_nothing) -> Decoded:
    """The records of an NDJSON body; blank lines are skipped, each invalid line is rejected alone.

    Lines, blank ones too, are counted before the body is split: millions of line breaks would
    otherwise each become an object before the record bound is reached.
    """
    count_bounded(body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n") - 1)  # a last line has no break
    hold(len(body))  # what the records take again, normalised: about the body's size
    decoded = Decoded()
    index = 0
    for line in body.splitlines():
        if not line.strip():
            continue
        count_bounded(index)
        index += 1
        try:
            record = parse_record(line)
        except InvalidRecord as invalid:
            decoded.rejected.append(Rejected(invalid.reason, line))
            continue
        if record["id"] is None:
            record["id"] = new_id()
        fields = {name: value for name, value in record.items() if value is not None and name != "epoch"}
        decoded.records.append((record["service"], compact_json.dumps(fields)))  # epoch: the parser's own
    return decoded
