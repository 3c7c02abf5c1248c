"""``python -m ugrn_core.cli ...`` runs the ``ugrn`` command (same as ``python -m ugrn_core``)."""

import sys

from . import main

sys.exit(main())
