"""`python -m pipelint.all_repos_shard`: the command's documented name; the code is pipelint.orgwide.shard."""

import sys

from pipelint.orgwide.shard import main

if __name__ == "__main__":
    sys.exit(main())
