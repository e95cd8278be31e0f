"""`SemanticLayer`: the Python API over the layers (specs -> resolve -> query -> planner -> render -> connection)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

from seeknal_sqlmesh.contract import Layout, ProjectPaths
from seeknal_sqlmesh.errors import Problem
from seeknal_sqlmesh.semantic.connection import Connection, connect
from seeknal_sqlmesh.semantic.errors import QueryError, SemanticDefinitionError
from seeknal_sqlmesh.semantic.plan import QueryPlan
from seeknal_sqlmesh.semantic.planner import build_plan
from seeknal_sqlmesh.semantic.query import QueryRequest, QueryResolver
from seeknal_sqlmesh.semantic.render import default_relation, render
from seeknal_sqlmesh.semantic.resolve import ResolvedManifest
from seeknal_sqlmesh.semantic.specs import load_manifest
from seeknal_sqlmesh.sqlkit import to_sql

if t.TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sqlglot import exp

PathLike = t.Union[str, Path]
Names = t.Union[str, t.Sequence[str], None]  # a list of names, or one comma-separated string
TimeConstraint = t.Optional[t.Tuple[t.Any, t.Any]]  # (start, end), inclusive; either may be None


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


def project_semantic_paths(project: ProjectPaths) -> t.List[Path]:
    """The semantic YAML of a project: its translation's `seeknal/semantic`, or, before the first translation, the
    Seeknal project's `seeknal/` folder."""
    translated = project.translated / Layout.SEMANTIC_DIR
    if not translated.is_dir() and project.seeknal is not None:
        return [project.seeknal / "seeknal"]
    return [translated]


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
    def warnings(self) -> t.List[Problem]:
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
        self,
        metrics: Names = None,
        group_by: Names = None,
        where: Names = None,
        order_by: Names = None,
        limit: t.Optional[int] = None,
        time_constraint: TimeConstraint = None,
    ) -> QueryPlan:
        """The query resolved and planned: every name is checked here (unknown names fail with suggestions)."""
        req = QueryRequest(
            t.cast(t.List[str], metrics or []),
            t.cast(t.List[str], group_by or []),
            t.cast(t.List[str], where or []),
            t.cast(t.List[str], order_by or []),
            limit,
            time_constraint,
        )
        return build_plan(self.manifest, QueryResolver(self.manifest).resolve(req))

    def _render(self, plan: QueryPlan, dialect: t.Optional[str]) -> t.Tuple[exp.Select, t.Dict[str, t.Set[str]], str]:
        relation = self.connection.relation if self.connection is not None else default_relation
        dialect = dialect or (self.connection.dialect if self.connection is not None else "duckdb")
        tree, reads = render(plan, relation, dialect)
        return tree, reads, dialect

    def compile(
        self,
        metrics: Names = None,
        group_by: Names = None,
        where: Names = None,
        order_by: Names = None,
        limit: t.Optional[int] = None,
        time_constraint: TimeConstraint = None,
        dialect: t.Optional[str] = None,
        pretty: bool = True,
    ) -> str:
        """The query's SQL in `dialect` (default: the connection's, else DuckDB)."""
        plan = self.plan(metrics, group_by, where, order_by, limit, time_constraint)
        tree, _, dialect = self._render(plan, dialect)
        return to_sql(tree, dialect, pretty)

    def explain(
        self,
        metrics: Names = None,
        group_by: Names = None,
        where: Names = None,
        order_by: Names = None,
        limit: t.Optional[int] = None,
        time_constraint: TimeConstraint = None,
        dialect: t.Optional[str] = None,
    ) -> Explanation:
        """The SQL, and the models and columns it reads (with the relation each model stands for)."""
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

    def _connection(self) -> Connection:
        if self.connection is None:
            raise QueryError("this semantic layer has no connection: SemanticLayer.load(paths, connection=...)")
        return self.connection

    def _sql(
        self,
        metrics: Names,
        group_by: Names,
        where: Names,
        order_by: Names,
        limit: t.Optional[int],
        time_constraint: TimeConstraint,
    ) -> str:
        dialect = self._connection().dialect
        return self.compile(metrics, group_by, where, order_by, limit, time_constraint, dialect=dialect, pretty=False)

    def query(
        self,
        metrics: Names = None,
        group_by: Names = None,
        where: Names = None,
        order_by: Names = None,
        limit: t.Optional[int] = None,
        time_constraint: TimeConstraint = None,
    ) -> pd.DataFrame:
        """Run the query; a pandas DataFrame whose columns are the group-by names as asked, then the metric names."""
        sql = self._sql(metrics, group_by, where, order_by, limit, time_constraint)
        return self._connection().execute(sql)

    def query_arrow(
        self,
        metrics: Names = None,
        group_by: Names = None,
        where: Names = None,
        order_by: Names = None,
        limit: t.Optional[int] = None,
        time_constraint: TimeConstraint = None,
    ) -> pa.Table:
        """Run the query; an Arrow table with the engine's types (dates are dates). Without `order_by`, rows are
        sorted by the group-by columns (NULLs last), so the same query always prints the same way."""
        sql = self._sql(metrics, group_by, where, order_by, limit, time_constraint)
        data = self._connection().fetch_arrow(sql)
        keys = _names(group_by)
        if not _names(order_by) and keys and data.num_rows:
            data = data.sort_by([(k, "ascending") for k in keys])
        return data

    def compare(
        self,
        other: SemanticLayer,
        labels: t.Tuple[str, str] = ("a", "b"),
        metrics: Names = None,
        group_by: Names = None,
        where: Names = None,
        order_by: Names = None,
        limit: t.Optional[int] = None,
        time_constraint: TimeConstraint = None,
    ) -> pd.DataFrame:
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

    def compare_arrow(
        self,
        other: SemanticLayer,
        labels: t.Tuple[str, str] = ("a", "b"),
        metrics: Names = None,
        group_by: Names = None,
        where: Names = None,
        order_by: Names = None,
        limit: t.Optional[int] = None,
        time_constraint: TimeConstraint = None,
    ) -> pa.Table:
        """`compare` as an Arrow table, from the engine's types (dates stay dates)."""
        import pyarrow as pa

        if labels[0] == labels[1]:
            raise QueryError(f"both sides of the comparison are '{labels[0]}'", "compare two different environments")
        frame = compare_frames(
            self.query_arrow(metrics, group_by, where, None, None, time_constraint).to_pandas(),
            other.query_arrow(metrics, group_by, where, None, None, time_constraint).to_pandas(),
            _names(group_by),
            _names(metrics),
            labels,
            order_by,
            limit,
        )
        return pa.Table.from_pandas(frame, preserve_index=False)


def _names(value: Names) -> t.List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def compare_frames(
    a: pd.DataFrame,
    b: pd.DataFrame,
    keys: t.Sequence[str],
    metrics: t.Sequence[str],
    labels: t.Tuple[str, str],
    order_by: Names = None,
    limit: t.Optional[int] = None,
) -> pd.DataFrame:
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


def _no_models(paths: t.Sequence[Path]) -> Problem:
    return Problem(
        ", ".join(str(p) for p in paths), "", "", "no semantic models found (kind: semantic_model or semantic_models:)"
    )
