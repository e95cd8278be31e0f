"""Seeknal on SQLMesh.

`load_project` reads a Seeknal 2.13 project; `translate_project` turns it into a SQLMesh project.
The CLI (`seeknal ...`) is a thin wrapper over these functions.
"""

__version__ = "0.1.0"

from seeknal_sqlmesh.errors import Problem, ProjectError
from seeknal_sqlmesh.project import load_project
from seeknal_sqlmesh.translators import translate_project

__all__ = ["Problem", "ProjectError", "__version__", "load_project", "translate_project"]
