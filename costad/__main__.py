"""`python -m costad` is the `costad` command."""
import sys

from .study.commands import main

sys.exit(main())
