"""``python -m spnlib``: the command line of :mod:`spnlib.cli`."""
import sys

from .cli import main

sys.exit(main())
