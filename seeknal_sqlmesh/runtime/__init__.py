"""Code that translated SQLMesh projects import at run time (config loading, file readers, profiles, exports)."""
