"""Changelog-backed tables; every cell records the source offsets it has applied (see cells.py)."""
