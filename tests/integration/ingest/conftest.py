"""Fixtures of the ingest tests: ingest servers as real processes (the broker and workers come from the parent)."""

from tests.fixtures.ingest import start_ingest as start_ingest
