"""``python -m policy_engine``: see ``policy_engine.entrypoints.cli``."""

import sys

from .entrypoints.cli import main

sys.exit(main())
