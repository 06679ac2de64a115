"""``python -m services.cli``: the ``carelog`` command."""

from services.cli.main import main

raise SystemExit(main())
