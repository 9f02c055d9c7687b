"""Processes: the worker, the embedded dev stack, settings and the CLI."""
