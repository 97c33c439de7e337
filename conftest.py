"""Top-level pytest configuration.

sitebench's benchmark plugin (``--sitebench-*`` options and the ``sitebench_case``
fixture over every registered workload at the ci preset) registers itself through
the ``pytest11`` entry point of the installed package, so nothing is listed here.
"""
