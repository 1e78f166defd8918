"""`python -m costad` is the `costad` command."""
import sys

from .cli import main

sys.exit(main())
