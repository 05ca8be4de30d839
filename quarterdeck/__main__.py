"""``python -m quarterdeck``: the ``quarterdeck`` command."""
import sys

from quarterdeck.cli.entry import main

sys.exit(main())
