"""`python -m bench` is the same as the `sitebench` console script."""

from bench.cli import main

raise SystemExit(main())
