#!/usr/bin/env python3
"""Build the Bitext part of the NLU training data and the Bitext held-out set (deterministic): nlu_tools/bitext.py.

python scripts/build_bitext.py [--csv ../shared/data/bitext/customer-service-8k.csv] [--check]
"""

import sys

from nlu_tools.bitext import main

if __name__ == "__main__":
    sys.exit(main())
