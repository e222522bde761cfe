"""``python -m cti`` is the ``cti`` command."""

import sys

from cti.cli import main

sys.exit(main())
