"""The read side: queries over table state, per-worker partial answers, and their fan-out across workers."""
