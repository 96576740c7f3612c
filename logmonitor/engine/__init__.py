"""The engine seam: every contact with faust-streaming's, mode-streaming's and aiokafka's internals.

logmonitor's exactness and speed rest on a few hooks into the engine's private code (its fetch
loop, its producer buffer, its tables' expiry heap, its current event ...). Each hook lives in a
module of its own here, which says why it exists, the upstream versions it was verified against
(:data:`logmonitor.engine.versions.VERIFIED`) and what it assumes; ``tests/unit/engine/`` holds a
fast contract test per hook that fails when an upstream change breaks that assumption. Nothing
outside this package names an underscore attribute of faust, mode or aiokafka
(``tools/check_engine_private.py``, part of ``make lint``). docs/architecture.md says how to
upgrade an engine version.
"""
