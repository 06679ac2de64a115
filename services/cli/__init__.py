"""The ``carelog`` command: one module per sub-command group, the demo data, progress bars
and the parallel view rebuild. Entry point: ``services.cli.main:main``."""
