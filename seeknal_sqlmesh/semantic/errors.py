"""Errors of the semantic layer, meant for people.

Definition problems (bad YAML, unknown measure, cycle, ambiguous join path) are collected while loading and raised
together, each with its file, object and field. Query problems (unknown metric or dimension, unanswerable query,
refused filter) are raised one at a time with the nearest valid names as suggestions.
"""

from __future__ import annotations

import difflib
import typing as t

from seeknal_sqlmesh.errors import Problem, ProjectError


class SemanticDefinitionError(ProjectError):
    """Every problem found in the semantic models and metrics, each with file, object and field."""

    def __init__(self, problems: t.Sequence[Problem]):
        super().__init__(problems)
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} in the semantic definitions:"]
        lines += [f"  - {p}" for p in self.problems]
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return self.args[0]


class QueryError(Exception):
    """A query that cannot be answered; the message says why (and what was probably meant)."""

    exit_code = 2


def suggest(name: str, candidates: t.Iterable[str], n: int = 3) -> str:
    """' (did you mean: a, b?)' with the nearest names, or ''."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if not close:
        lowered = name.lower()
        close = [c for c in pool if lowered in c.lower() or c.lower() in lowered][:n]
    return f" (did you mean: {', '.join(close)}?)" if close else ""
