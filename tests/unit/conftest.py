"""Fixtures of the unit layer (no broker, no browser): the tables as dicts."""

from tests.unit.dict_tables import tables as tables
