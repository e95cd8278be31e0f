"""Shared pytest setup."""

import os

# SQLMesh posts anonymized usage analytics from a background thread unless told not to (reference §7.2).
os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "true"
# SQLMesh loads models in forked worker processes. Forking the pytest process, which by then holds DuckDB
# connections and their threads from earlier tests, occasionally kills a worker (BrokenProcessPool): load in-process.
os.environ.setdefault("MAX_FORK_WORKERS", "1")
