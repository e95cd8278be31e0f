"""Errors of the semantic layer, meant for people.

Definition problems (bad YAML, unknown measure, cycle, ambiguous join path) are collected while loading and raised
together, each with its file, object and field. Query problems (unknown metric or dimension, unanswerable query,
refused filter) are raised one at a time with the nearest valid names as suggestions.
"""

from __future__ import annotations

from seeknal_sqlmesh.errors import ProjectError, SeeknalError
from seeknal_sqlmesh.errors import did_you_mean as suggest


class SemanticDefinitionError(ProjectError):
    """Every problem found in the semantic models and metrics, each with file, object and field."""

    subject = "the semantic definitions"


class QueryError(SeeknalError):
    """A query that cannot be answered; the message says why (and what was probably meant)."""


__all__ = ["QueryError", "SemanticDefinitionError", "suggest"]
