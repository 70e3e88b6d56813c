"""`python -m opsuite.expectations update|suggest RESULTS_DIR` (see rewrite.py)."""

import sys

from opsuite.expectations.rewrite import main

sys.exit(main())
