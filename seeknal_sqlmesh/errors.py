"""Errors meant for people: one base type, `SeeknalError`, with an exit code.

Every error the package raises on purpose derives from it (plugins too), and the `seeknal` command prints it the same
way everywhere (`cli_kit.SeeknalGroup`): what is wrong, where, what to do; never a traceback. Exit codes:
2 for bad input or usage (the default), 1 for a check that ran and failed (`CheckFailed`).

Project problems are collected, not raised one by one: `Problems` gathers every problem of a run, each naming the
file, the node and the field, and `ProjectError` carries them all.
"""

from __future__ import annotations

import difflib
import typing as t
from dataclasses import dataclass, field
from pathlib import Path


class SeeknalError(Exception):
    """What went wrong (the message, naming the thing and the place) and, optionally, what to do (`hint`)."""

    exit_code = 2

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class CheckFailed(SeeknalError):
    """A check that ran and found something (a stale translation, a failed audit): exit code 1."""

    exit_code = 1


def did_you_mean(name: str, candidates: t.Iterable[str], n: int = 3) -> str:
    """' (did you mean: a, b?)' with the nearest names, or ''."""
    pool = sorted({c for c in candidates if c})
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if not close:
        lowered = name.lower()
        close = [c for c in pool if lowered and (lowered in c.lower() or c.lower() in lowered)][:n]
    return f" (did you mean: {', '.join(close)}?)" if close else ""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's project."""

    file: str
    node: str
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.node:
            where += f": node '{self.node}'"
        if self.field:
            where += f", field '{self.field}'"
        text = f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ProjectError(SeeknalError):
    """Raised once per run with every problem found, not just the first."""

    subject = "the Seeknal project"

    def __init__(self, problems: t.Sequence[Problem]):
        self.problems = sorted(set(problems))
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in {self.subject}:"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


@dataclass
class Problems:
    """Collects problems while a project is read or translated."""

    root: Path
    items: t.List[Problem] = field(default_factory=list)
    warnings: t.List[Problem] = field(default_factory=list)

    def relative(self, path: t.Union[str, Path, None]) -> str:
        if path is None:
            return "<project>"
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def error(self, path: t.Union[str, Path, None], node: str, field_name: str, message: str, hint: str = "") -> None:
        self.items.append(Problem(self.relative(path), node, field_name, message, hint))

    def warn(self, path: t.Union[str, Path, None], node: str, field_name: str, message: str, hint: str = "") -> None:
        self.warnings.append(Problem(self.relative(path), node, field_name, message, hint))

    def raise_if_any(self) -> None:
        if self.items:
            raise ProjectError(self.items)
