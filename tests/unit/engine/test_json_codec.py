"""Contract of the table codec hook with Faust's codecs (faust-streaming 0.15.3)."""

from __future__ import annotations

import pytest
from faust.serializers import codecs

from logmonitor.engine import json_codec
from logmonitor.engine.json_codec import CODEC, CompactJsonCodec
from tests.unit.engine.signatures import bare_signature, calls


def test_the_overridden_method_has_the_verified_signature_and_faust_encodes_through_it() -> None:
    assert bare_signature(codecs.json._dumps) == bare_signature(CompactJsonCodec._dumps) == "(self, s)"
    assert calls(codecs.Codec.dumps, "obj = cast(Codec, node)._dumps(obj)")


def test_the_registered_codec_copies_every_result(monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[bytes] = []
    monkeypatch.setattr(json_codec, "exact_size", lambda data: copied.append(data) or data)
    codec = codecs.get_codec(CODEC)
    assert isinstance(codec, CompactJsonCodec)
    assert codec.dumps({"INFO": 1}) == codecs.get_codec("json").dumps({"INFO": 1})
    assert len(copied) == 1
