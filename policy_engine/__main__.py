"""``python -m policy_engine``: see ``policy_engine.cli``."""
import sys

from .cli import main

sys.exit(main())
