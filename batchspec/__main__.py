"""`python -m batchspec` is the same as the `batchspec` command."""

from batchspec.cli.main import main

raise SystemExit(main())
