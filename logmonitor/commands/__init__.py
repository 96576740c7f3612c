"""The project's own CLI commands, beside Faust's (``logmonitor worker``, ``logmonitor agents``)."""
