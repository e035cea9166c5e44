"""``python -m cjm_core``: the command line (:mod:`cjm_core.cli`)."""

import sys

from cjm_core.cli import main

sys.exit(main())
