"""The StarRocks plugin's errors: every one is a `SeeknalError`, so `seeknal` prints it for people and exits with its
code (2: something to fix in the input or the setup; 1: statements that ran and failed)."""

from __future__ import annotations

from seeknal_sqlmesh.errors import CheckFailed, SeeknalError


class CommandError(SeeknalError):
    """A problem a person can fix: an unknown connection or metric, a bad option, an unreachable server."""


class ReplError(SeeknalError):
    """The REPL cannot start (no warehouse, no environment) or a statement failed."""


class StatementsFailed(CheckFailed):
    """`seeknal repl --exec` (or statements on stdin) ran and some statements failed: exit code 1."""
