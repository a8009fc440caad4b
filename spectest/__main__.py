"""``python -m spectest``: see :mod:`spectest.cli`."""

import sys

from spectest.cli import main

sys.exit(main())
