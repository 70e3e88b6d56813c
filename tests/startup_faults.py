"""Convert maps whose loading goes wrong in the worker, before it is ready to run a case.

The worker loads a convert map by `getattr(module, ATTR)` while starting; this module answers
that lookup (a module-level __getattr__), so importing it has no side effects of its own.
"""

import os
import sys
import time


def __getattr__(name):
    if name == "DIES":  # the worker process ends before it says it is ready
        print("worker start-up failed on purpose", file=sys.stderr, flush=True)
        os._exit(3)
    if name == "SLOW":  # a start-up far slower than the limit the test sets; finite, then fine
        time.sleep(60)
        return {}
    raise AttributeError(name)
