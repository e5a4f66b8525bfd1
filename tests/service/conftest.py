import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # so ``tests.support`` imports however pytest is started
    sys.path.insert(0, ROOT)

from tests.support.fixtures import *  # noqa: E402,F401,F403
