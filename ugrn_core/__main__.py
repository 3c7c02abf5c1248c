"""``python -m ugrn_core ...`` runs the ``ugrn`` command (same arguments, same exit codes)."""

import sys

from .cli import main

sys.exit(main())
