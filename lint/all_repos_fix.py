"""`python -m pipelint.all_repos_fix`: the command's documented name; the code is pipelint.orgwide.fix."""

import sys

from pipelint.orgwide.fix import main

if __name__ == "__main__":
    sys.exit(main())
