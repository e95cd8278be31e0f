"""Seeknal on SQLMesh.

`load_project` reads a Seeknal 2.13 project; `translate_project` turns it into a SQLMesh project.
The CLI (`seeknal ...`) is a thin wrapper over these functions. Importing the package is cheap: the functions are
loaded on first use.
"""

from __future__ import annotations

import importlib
import typing as t

__version__ = "0.1.0"

_LAZY = {
    "Problem": "seeknal_sqlmesh.errors",
    "ProjectError": "seeknal_sqlmesh.errors",
    "SeeknalError": "seeknal_sqlmesh.errors",
    "load_project": "seeknal_sqlmesh.project",
    "translate_project": "seeknal_sqlmesh.translators",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> t.Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seeknal_sqlmesh' has no attribute '{name}'")
