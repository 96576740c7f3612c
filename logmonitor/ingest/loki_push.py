"""Loki's push protobuf (``PushRequest`` of grafana/loki ``pkg/push/push.proto``) as message classes.

Built from a descriptor here rather than generated: the file needs no compiler and no
gogoproto options, and generated code is tied to the protobuf runtime that generated it. Wire
format as upstream, with two deliberate differences that only loosen what is accepted: text
fields are ``bytes`` (Go sends any bytes in a ``string``; protobuf for Python would refuse the
whole request for one line that is not UTF-8, where we decode it with replacement characters),
and ``google.protobuf.Timestamp`` is a local message of the same two fields.

upstream: grafana/loki pkg/push/push.proto at 65e30f8488e8a5ea2013c6881675f8103a8f6bc7::

    message PushRequest { repeated StreamAdapter streams = 1; string format = 2; }
    message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
    message LabelPairAdapter { string name = 1; string value = 2; }
    message EntryAdapter {
      google.protobuf.Timestamp timestamp = 1; string line = 2;
      repeated LabelPairAdapter structuredMetadata = 3; repeated LabelPairAdapter parsed = 4;
    }
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["EntryAdapter", "LabelPairAdapter", "PushRequest", "StreamAdapter", "Timestamp"]

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "logproto"


def _message(file: descriptor_pb2.FileDescriptorProto, name: str,
             fields: list[tuple[str, int, int, str | None, bool]]) -> None:
    """Add message ``name`` with ``(field, number, type, message type, repeated)`` fields to ``file``."""
    message = file.message_type.add(name=name)
    for field, number, kind, type_name, repeated in fields:
        message.field.add(name=field, number=number, type=kind,
                          label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
                          type_name=f".{_PACKAGE}.{type_name}" if type_name else None)


def _classes() -> dict[str, Any]:
    file = descriptor_pb2.FileDescriptorProto(name="logmonitor/loki_push.proto", package=_PACKAGE, syntax="proto3")
    _message(file, "Timestamp", [("seconds", 1, _F.TYPE_INT64, None, False), ("nanos", 2, _F.TYPE_INT32, None, False)])
    _message(file, "LabelPairAdapter", [("name", 1, _F.TYPE_BYTES, None, False),
                                        ("value", 2, _F.TYPE_BYTES, None, False)])
    _message(file, "EntryAdapter", [
        ("timestamp", 1, _F.TYPE_MESSAGE, "Timestamp", False), ("line", 2, _F.TYPE_BYTES, None, False),
        ("structuredMetadata", 3, _F.TYPE_MESSAGE, "LabelPairAdapter", True),
        ("parsed", 4, _F.TYPE_MESSAGE, "LabelPairAdapter", True)])
    _message(file, "StreamAdapter", [
        ("labels", 1, _F.TYPE_BYTES, None, False), ("entries", 2, _F.TYPE_MESSAGE, "EntryAdapter", True),
        ("hash", 3, _F.TYPE_UINT64, None, False)])
    _message(file, "PushRequest", [("streams", 1, _F.TYPE_MESSAGE, "StreamAdapter", True),
                                   ("format", 2, _F.TYPE_STRING, None, False)])
    pool = descriptor_pool.DescriptorPool()  # our own: nothing else can clash with these names
    pool.Add(file)
    return {message.name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{message.name}"))
            for message in file.message_type}


_CLASSES = _classes()
Timestamp: Any = _CLASSES["Timestamp"]
LabelPairAdapter: Any = _CLASSES["LabelPairAdapter"]
EntryAdapter: Any = _CLASSES["EntryAdapter"]
StreamAdapter: Any = _CLASSES["StreamAdapter"]
PushRequest: Any = _CLASSES["PushRequest"]
