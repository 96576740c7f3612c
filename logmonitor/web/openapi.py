"""Pieces of the OpenAPI 3 document: parameters, operations, and the document around the paths (``web/routes.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from logmonitor import __version__
from logmonitor.levels import LEVELS

__all__ = ["LEVEL", "LIMIT", "OBJECT", "TEXT", "TIME", "document", "get", "param", "patch", "post"]

PathItem = dict[str, Any]

TIME = {"type": "string", "description": "ISO 8601 (Z or offset) or epoch seconds/milliseconds"}
TEXT = {"type": "string", "maxLength": 256}
LEVEL = {"type": "string", "enum": [*LEVELS, *(level.lower() for level in LEVELS)]}
LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000}
OBJECT = {"type": "object", "additionalProperties": True}
_ERROR = {"description": "Bad parameter or unknown thing",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def param(name: str, schema: Mapping[str, Any], where: str = "query", doc: str = "") -> dict[str, Any]:
    """One parameter; path parameters are required."""
    return {"name": name, "in": where, "required": where == "path", "schema": dict(schema), "description": doc}


def get(summary: str, params: list[dict[str, Any]] | None = None, *, media: str = "application/json",
        errors: tuple[str, ...] = ("400",), public: bool = False, answers: Mapping[str, str] | None = None) -> PathItem:
    """A GET answering ``media`` (200), JSON errors with the ``errors`` statuses; ``public``: no token needed."""
    responses: dict[str, Any] = {"200": {"description": summary, "content": {media: {"schema": OBJECT}}}}
    responses.update({code: {"description": text, "content": {media: {"schema": OBJECT}}}
                      for code, text in (answers or {}).items()})
    responses.update({code: _ERROR for code in errors})
    operation: dict[str, Any] = {"summary": summary, "parameters": params or [], "responses": responses}
    if public:
        operation["security"] = []
    return {"get": operation}


def post(summary: str) -> PathItem:
    """A POST of an optional JSON body answering JSON (200) or a JSON error (400)."""
    body = {"required": False, "content": {"application/json": {"schema": OBJECT}}}
    answer = {"description": summary, "content": {"application/json": {"schema": {}}}}
    return {"post": {"summary": summary, "requestBody": body, "responses": {"200": answer, "400": _ERROR}}}


def patch(summary: str, params: list[dict[str, Any]], body: Mapping[str, Any], *,
          answers: Mapping[str, str]) -> PathItem:
    """A PATCH of a required JSON ``body`` answering JSON with the ``answers`` statuses, JSON errors 400 and 404."""
    responses: dict[str, Any] = {code: {"description": text, "content": {"application/json": {"schema": OBJECT}}}
                                 for code, text in answers.items()}
    responses.update({"400": _ERROR, "404": _ERROR})
    request = {"required": True, "content": {"application/json": {"schema": dict(body)}}}
    return {"patch": {"summary": summary, "parameters": params, "requestBody": request, "responses": responses}}


def document(paths: Mapping[str, PathItem]) -> dict[str, Any]:
    """The OpenAPI 3 document of ``paths``."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "logmonitor", "version": __version__,
                 "description": "Real-time log and error monitoring, served from Faust table state."},
        "components": {
            "schemas": {"Error": {"type": "object", "required": ["error", "detail"],
                                  "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}, "basic": {"type": "http", "scheme": "basic"},
            },
        },
        "security": [{"bearer": []}, {"basic": []}],
        "paths": dict(paths),
    }
