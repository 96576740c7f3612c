"""Faust agents of the logmonitor app."""
