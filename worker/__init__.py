"""Processes: the worker, the gateway server, settings and the embedded dev stack
with its sandboxes."""
