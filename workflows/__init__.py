"""Temporal workflows: deterministic, no I/O; they call activities through the typed
stubs of activity_stubs.py."""
