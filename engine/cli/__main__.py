"""``python -m engine.cli``: the ``corridor`` command."""

from . import main

raise SystemExit(main())
