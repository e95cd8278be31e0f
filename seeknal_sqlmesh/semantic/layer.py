"""`SemanticLayer`: the Python API over the layers (specs -> resolve -> query -> plan -> render -> connection)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

from seeknal_sqlmesh.semantic.connection import Connection, connect
from seeknal_sqlmesh.semantic.errors import QueryError, SemanticDefinitionError
from seeknal_sqlmesh.semantic.plan import QueryPlan, build_plan
from seeknal_sqlmesh.semantic.query import QueryRequest, QueryResolver
from seeknal_sqlmesh.semantic.render import default_relation, render
from seeknal_sqlmesh.semantic.resolve import ResolvedManifest
from seeknal_sqlmesh.semantic.specs import load_manifest
from seeknal_sqlmesh.semantic.sql import to_sql

PathLike = t.Union[str, Path]


@dataclass
class Explanation:
    sql: str
    reads: t.Dict[str, t.Tuple[str, t.List[str]]]  # semantic model -> (relation as SQL, columns)
    plan: QueryPlan

    def __str__(self) -> str:
        lines = [self.sql.rstrip(), "", "-- reads:"]
        for model, (relation, columns) in sorted(self.reads.items()):
            lines.append(f"--   {model} ({relation}): {', '.join(columns)}")
        return "\n".join(lines)


def semantic_paths(path: PathLike) -> t.List[Path]:
    """Where the semantic YAML of a folder is: a translated project's `seeknal/semantic`, a Seeknal project's
    `seeknal/`, or the folder itself."""
    p = Path(path)
    if p.is_dir():
        for sub in ("seeknal/semantic", "seeknal"):
            if (p / sub).is_dir():
                return [p / sub]
    return [p]


class SemanticLayer:
    def __init__(self, manifest: ResolvedManifest, connection: t.Optional[Connection] = None):
        self.manifest = manifest
        self.connection = connection

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(
        cls,
        paths: t.Union[PathLike, t.Sequence[PathLike]],
        connection: t.Any = None,
        environment: t.Optional[str] = None,
    ) -> SemanticLayer:
        """Read semantic models and metrics (files or folders, Seeknal or MetricFlow YAML).

        connection: a DuckDB connection, a DuckDB file path, a SQLMesh Context, or (Context, environment)."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        expanded: t.List[Path] = []
        for p in paths:
            expanded += semantic_paths(p)
        manifest, problems = load_manifest(expanded)
        if problems:
            raise SemanticDefinitionError(problems)
        if not manifest.models:
            raise SemanticDefinitionError([_no_models(expanded)])
        return cls(ResolvedManifest(manifest), connect(connection, environment))

    def with_connection(self, connection: t.Any, environment: t.Optional[str] = None) -> SemanticLayer:
        """The same definitions on another connection or environment."""
        return SemanticLayer(self.manifest, connect(connection, environment))

    @property
    def warnings(self):
        return list(self.manifest.warnings)

    # ---------------------------------------------------------------- introspection
    def metrics(self) -> t.List[str]:
        return sorted(self.manifest.metrics)

    def dimensions(self, metrics: t.Sequence[str] = ()) -> t.List[str]:
        """Group-by names usable with `metrics` (all models' names when none are given)."""
        resolver = QueryResolver(self.manifest)
        models = {m.model for name in metrics for m in self.manifest.measures_of(resolver.metric(name).name)}
        pool = models or set(self.manifest.models)
        names = set.intersection(*[set(self.manifest.index[m].elements) for m in pool])
        return sorted(names | ({"metric_time"} if metrics else set()))

    # ---------------------------------------------------------------- queries
    def plan(
        self, metrics=None, group_by=None, where=None, order_by=None, limit=None, time_constraint=None
    ) -> QueryPlan:
        req = QueryRequest(metrics or [], group_by or [], where or [], order_by or [], limit, time_constraint)
        resolved = QueryResolver(self.manifest).resolve(req)
        return build_plan(self.manifest, resolved)

    def _render(self, plan: QueryPlan, dialect: t.Optional[str]):
        relation = self.connection.relation if self.connection is not None else default_relation
        dialect = dialect or (self.connection.dialect if self.connection is not None else "duckdb")
        tree, reads = render(self.manifest, plan, relation, dialect)
        return tree, reads, dialect

    def compile(
        self,
        metrics=None,
        group_by=None,
        where=None,
        order_by=None,
        limit=None,
        time_constraint=None,
        dialect: t.Optional[str] = None,
        pretty: bool = True,
    ) -> str:
        plan = self.plan(metrics, group_by, where, order_by, limit, time_constraint)
        tree, _, dialect = self._render(plan, dialect)
        return to_sql(tree, dialect, pretty)

    def explain(
        self,
        metrics=None,
        group_by=None,
        where=None,
        order_by=None,
        limit=None,
        time_constraint=None,
        dialect: t.Optional[str] = None,
    ) -> Explanation:
        plan = self.plan(metrics, group_by, where, order_by, limit, time_constraint)
        tree, reads, dialect = self._render(plan, dialect)
        relation = self.connection.relation if self.connection is not None else default_relation
        out = {}
        for model, columns in reads.items():
            rel = self.manifest.models[model].relation
            try:
                where_ = to_sql(relation(rel), dialect)
            except QueryError:
                where_ = str(rel)
            out[model] = (f"{rel} -> {where_}" if rel.is_ref else where_, sorted(columns))
        return Explanation(to_sql(tree, dialect, True), out, plan)

    def query(self, metrics=None, group_by=None, where=None, order_by=None, limit=None, time_constraint=None):
        """Run the query; a pandas DataFrame whose columns are the group-by names as asked, then the metric names."""
        if self.connection is None:
            raise QueryError("this semantic layer has no connection: SemanticLayer.load(paths, connection=...)")
        sql = self.compile(
            metrics, group_by, where, order_by, limit, time_constraint, dialect=self.connection.dialect, pretty=False
        )
        return self.connection.execute(sql)

    def compare(
        self,
        other: SemanticLayer,
        labels: t.Tuple[str, str] = ("a", "b"),
        metrics=None,
        group_by=None,
        where=None,
        order_by=None,
        limit=None,
        time_constraint=None,
    ):
        """The query on this layer and on `other` side by side: keys, then per metric `<m>__<a>`, `<m>__<b>`, `<m>__diff`."""
        return compare_frames(
            self.query(metrics, group_by, where, None, None, time_constraint),
            other.query(metrics, group_by, where, None, None, time_constraint),
            _names(group_by),
            _names(metrics),
            labels,
            order_by,
            limit,
        )


def _names(value) -> t.List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def compare_frames(
    a, b, keys: t.Sequence[str], metrics: t.Sequence[str], labels: t.Tuple[str, str], order_by=None, limit=None
):
    import pandas as pd

    la, lb = labels
    if keys:
        merged = pd.merge(a, b, on=list(keys), how="outer", suffixes=(f"__{la}", f"__{lb}"))
    else:
        merged = pd.concat([a.add_suffix(f"__{la}"), b.add_suffix(f"__{lb}")], axis=1)
    columns = list(keys)
    for m in metrics:
        x = pd.to_numeric(merged[f"{m}__{la}"], errors="coerce")
        y = pd.to_numeric(merged[f"{m}__{lb}"], errors="coerce")
        merged[f"{m}__diff"] = x.astype("float64") - y.astype("float64")
        columns += [f"{m}__{la}", f"{m}__{lb}", f"{m}__diff"]
    out = merged[columns]
    order = _names(order_by)
    if order:
        by = [o.lstrip("-") if o.lstrip("-") in out.columns else f"{o.lstrip('-')}__{la}" for o in order]
        out = out.sort_values(by=by, ascending=[not o.startswith("-") for o in order], kind="stable")
    elif keys:
        out = out.sort_values(by=list(keys), kind="stable")
    if limit is not None:
        out = out.head(int(limit))
    return out.reset_index(drop=True)


def _no_models(paths):
    from seeknal_sqlmesh.errors import Problem

    return Problem(
        ", ".join(str(p) for p in paths), "", "", "no semantic models found (kind: semantic_model or semantic_models:)"
    )
