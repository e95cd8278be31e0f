"""Reading Seeknal projects: discovery, typed node models, `{{ }}` templating, profiles, Python nodes."""

from seeknal_sqlmesh.project.loader import load_project
from seeknal_sqlmesh.project.models import Node, Project

__all__ = ["Node", "Project", "load_project"]
