"""The Seeknal workflow on one SQLMesh `Context`: the library behind `seeknal plan`, `apply`, `promote`, `run`,
`render`, `audit`, `lineage`, `impact`, `create-test`, `test`, `check-intervals`, `invalidate`, `env`, `janitor`
and `dev`.

Open a translated project (or a Seeknal project, which stands for its translation) once, then call the functions on
it; node ids are Seeknal's (`kind.name`, `kind.name.column`):

    from seeknal_sqlmesh.workflow import open_workspace, plan, lineage

    with open_workspace("build/sample") as ws:
        plan.apply(ws, "dev")
        print(lineage.lineage(ws, "transform.orders_enriched.order_total").tree())

Modules: `context` (the workspace, id resolution), `plan` (plan, apply, promote, run, environments, janitor),
`intervals` (check, invalidate), `checks` (audit, unit tests, render), `lineage` (+ `html`), `sources` (file
sources whose data changed: restated by `run`), `dev` (`seeknal dev`: one warm process keeping an environment up to
date with the Seeknal project), `cli`, `plugin`.
SQLMesh is imported only when a function runs.
"""

from seeknal_sqlmesh.workflow.context import UnknownNode, Workspace, open_workspace

__all__ = ["UnknownNode", "Workspace", "open_workspace"]
