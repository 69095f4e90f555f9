"""``python -m dendrax`` runs the ``dendrax`` command (see :mod:`dendrax.cli`)."""

import sys

from dendrax.cli import main

sys.exit(main())
