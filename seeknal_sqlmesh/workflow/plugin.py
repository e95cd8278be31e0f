"""The workflow plugin: the Seeknal commands people know (plan, apply, promote, run, render, audit, lineage, impact,
create-test, test, check-intervals, invalidate, env, janitor), each over one SQLMesh `Context`."""

from __future__ import annotations

import typing as t

from seeknal_sqlmesh.plugins import Plugin

if t.TYPE_CHECKING:
    import click

NAME = "workflow"


class WorkflowPlugin(Plugin):
    name = NAME

    def commands(self) -> t.Sequence[click.Command]:
        from seeknal_sqlmesh.workflow.cli import COMMANDS

        return COMMANDS


plugin = WorkflowPlugin()
