"""SQLMesh macros used by translated projects.

SQLMesh restores its macro registry after every project load and re-imports the project's `macros/*.py`, but
this package is imported once per process, so its `@macro()` decorators register only on the first load. The
generated `macros/seeknal.py` therefore calls `register()` on every load.

SQLMesh stores each macro used by a model with everything the macro references, as source or as values that must
print back as Python: keep macros to sqlglot, the standard library and small pure helpers (no module-level caches).
"""

import inspect

from sqlmesh import macro

from seeknal_sqlmesh.macros.exports import seeknal_export
from seeknal_sqlmesh.macros.paths import seeknal_file
from seeknal_sqlmesh.macros.runtime_values import seeknal_date, seeknal_env, seeknal_run_id

MACROS = (seeknal_date, seeknal_env, seeknal_export, seeknal_file, seeknal_run_id)


def register() -> None:
    """Add the Seeknal macros to SQLMesh's macro registry (idempotent)."""
    for function in MACROS:
        macro(function.__name__)(inspect.unwrap(function))


__all__ = ["MACROS", "register", *(f.__name__ for f in MACROS)]
