"""``python -m cjm_core``: the command line (:mod:`cjm_core.cli`).

A local command's process ends with ``os._exit`` once its output is flushed: the interpreter's
own teardown (numba's compiled-code engine above all) took ≈ 0.2 s of a 1.6 s ``metrics`` run and
does nothing a finished command needs, since every file a command writes is closed by then. A
command that ran on Spark ends the usual way, so its session stops cleanly."""

import os
import sys

from cjm_core import warm

warm.start(sys.argv[1:])  # before the command's modules are imported: see cjm_core.warm

from cjm_core.cli import main  # noqa: E402

code = main()
if "pyspark" in sys.modules:
    sys.exit(code)
try:
    sys.stdout.flush()
    sys.stderr.flush()
except BrokenPipeError:  # the reader went away (``| head``): nothing more to say
    pass
os._exit(code)
