"""Errors meant for people: every problem names the file, the node and the field."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path


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


class ProjectError(Exception):
    """Raised once per run with every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: t.Sequence[Problem]):
        self.problems = sorted(set(problems))
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the Seeknal project:"
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

    def error(self, path, node: str, field_name: str, message: str, hint: str = "") -> None:
        self.items.append(Problem(self.relative(path), node, field_name, message, hint))

    def warn(self, path, node: str, field_name: str, message: str, hint: str = "") -> None:
        self.warnings.append(Problem(self.relative(path), node, field_name, message, hint))

    def raise_if_any(self) -> None:
        if self.items:
            raise ProjectError(self.items)
