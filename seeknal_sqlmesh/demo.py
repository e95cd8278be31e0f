"""`make demo`: translate the sample project, let the stock `sqlmesh` CLI plan prod on embedded DuckDB, then show
what a user wants to see: models built with row counts, audit outcomes, exports, and a few rows.

Usage: python -m seeknal_sqlmesh.demo [SEEKNAL_PROJECT] [OUTPUT] [SETTINGS_YAML]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table
from sqlglot import exp

from seeknal_sqlmesh.contract import Manifest
from seeknal_sqlmesh.errors import ProjectError
from seeknal_sqlmesh.translators import translate_project

PREVIEW_MODELS = ("feature_group", "second_order_aggregation", "aggregation")


def sqlmesh_executable() -> str:
    """The stock `sqlmesh` CLI of this interpreter's environment, else the one on PATH."""
    sibling = Path(sys.executable).with_name("sqlmesh")
    return str(sibling) if sibling.exists() else (shutil.which("sqlmesh") or "sqlmesh")


def main(project: str = "sample_project", output: str = "build/sample", settings: str = "config.yaml") -> int:
    console = Console()
    os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")
    overrides = yaml.safe_load(Path(settings).read_text()) if Path(settings).is_file() else None
    console.rule(f"[bold]1. seeknal translate {project} -o {output} --settings {settings}")
    try:
        result = translate_project(project, output, settings_overrides=overrides)
    except ProjectError as e:
        console.print(str(e), style="red")
        return e.exit_code
    console.print(
        f"{len(result.project.nodes)} Seeknal nodes -> {result.model_count} SQLMesh models, {len(result.files)} files"
    )
    for warning in result.warnings:
        console.print(f"  [yellow]warning[/] {warning}")

    console.rule(f"[bold]2. sqlmesh -p {output} plan --auto-apply   (the stock SQLMesh CLI)")
    completed = subprocess.run(
        [sqlmesh_executable(), "-p", output, "plan", "--auto-apply", "--no-prompts"], check=False
    )
    if completed.returncode != 0:
        console.print(f"sqlmesh plan failed with exit code {completed.returncode}", style="red")
        return completed.returncode

    console.rule("[bold]3. What was built")
    from sqlmesh import Context

    context = Context(paths=output)
    manifest = Manifest.load(output)
    table = Table("SQLMesh model (= Seeknal node id)", "kind", "rows", "audits")
    built = [m for m in context.models.values() if not m.kind.is_external]
    for model in sorted(built, key=lambda m: m.name):
        rows = context.fetchdf(exp.select(exp.alias_(exp.Count(this=exp.Star()), "n")).from_(model.name))["n"][0]
        audits = ", ".join(a[0] for a in model.audits) or "-"
        table.add_row(model.name, model.kind.name.value, str(rows), audits)
    console.print(table)

    untranslated = [n for n, e in manifest.nodes.items() if not e.models]
    console.print(
        f"Nodes kept as audits, metadata or semantic files (no model of their own): {', '.join(untranslated)}"
    )

    exports = [e for e in manifest.nodes.values() if e.kind == "exposure" and e.type == "file"]
    if exports:
        console.rule("[bold]4. File exposures written after the plan")
        for entry in exports:
            params = entry.params or {}
            console.print(f"  {params.get('path')} ({params.get('format')})")

    console.rule("[bold]5. A few rows")
    for kind in PREVIEW_MODELS:
        for model in sorted((m for m in built if m.name.split(".")[0].strip('"') == kind), key=lambda m: m.name)[:1]:
            console.print(f"[bold]{model.name}[/]")
            console.print(
                context.fetchdf(exp.select("*").from_(model.name).order_by(exp.Literal.number(1)).limit(5)).to_string(
                    index=False
                )
            )
    console.print(
        f"\nNext: edit a transform in {project}, re-translate, then `sqlmesh -p {output} plan dev --auto-apply`."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
