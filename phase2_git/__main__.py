from __future__ import annotations

import sys

from phase2_git.entry import main

if __name__ == "__main__":
    sys.exit(main())
