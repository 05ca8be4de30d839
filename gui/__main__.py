import sys

from quarterdeck.gui.app import main

sys.exit(main())
