import sys

from re3g.cli import main

sys.exit(main())
