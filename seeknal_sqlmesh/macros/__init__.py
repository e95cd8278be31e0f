"""SQLMesh macros used by translated projects. The generated `macros/seeknal.py` of every output project
imports this module, which registers them with SQLMesh's macro registry."""

from seeknal_sqlmesh.macros.exports import seeknal_export
from seeknal_sqlmesh.macros.paths import seeknal_file
from seeknal_sqlmesh.macros.runtime_values import seeknal_date, seeknal_env, seeknal_run_id

__all__ = ["seeknal_date", "seeknal_env", "seeknal_export", "seeknal_file", "seeknal_run_id"]
