"""The ``tocsin`` command line: parse, call the operations, print in French."""
