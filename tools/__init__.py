"""Developer tooling run by ``make lint``; not part of the installed package or the server's imports."""
