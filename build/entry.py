"""Entry point of the frozen bundle: the same `main` as the `meterbridge` command."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    # The preview converts big files in a child process; frozen children need this first.
    multiprocessing.freeze_support()
    sys.exit(main())
