"""`python -m batchspec.raycluster`: the entrypoint of batchspec's Ray jobs."""

import sys

from batchspec.raycluster.driver import main

sys.exit(main())
