"""Entry point: `python run.py [COMMAND] ...` is the same as the `stances` command."""

import sys

from stances.cli import main

if __name__ == "__main__":
    sys.exit(main())
