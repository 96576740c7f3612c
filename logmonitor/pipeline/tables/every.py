"""Import every table module, so all tables exist before their changelogs are created."""

from logmonitor.pipeline import aggregation  # noqa: F401  (log counts, groups, service state, invalid counts)
from logmonitor.pipeline.tables import alert_state  # noqa: F401
