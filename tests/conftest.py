"""Shared pytest setup."""

import os

# SQLMesh posts anonymized usage analytics from a background thread unless told not to (reference §7.2).
os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "true"
