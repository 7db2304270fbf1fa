"""App-side helpers shared by the pages: settings, cached data access, filters, display and privacy."""

import os

# Before numpy loads (app.py, deploy/worker.py and the benchmark import ui first): numpy's OpenBLAS
# would start a thread per core for the model fits' small matrix products; on 2 cores that doubled
# their CPU time for about a tenth less wall time, and at a meeting other sessions wait for that core.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
