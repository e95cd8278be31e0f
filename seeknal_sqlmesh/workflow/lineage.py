"""Column lineage over the SQLMesh DAG: upstream to the source columns, downstream to everything a column feeds.

Each hop is sqlglot's lineage (`sqlglot.lineage.lineage`, as `sqlmesh.core.lineage` uses it) on the model's rendered
query, qualified with the schema of its parents. A model's columns are the ones SQLMesh knows (declared, or derived
from its query): file sources declare their file's columns at translation time, so `SELECT *` chains resolve without
a warehouse. Only a Python model whose columns SQLMesh does not know is read from the warehouse, from the table the
environment serves.

`impact` adds the Seeknal nodes that use an impacted column: feature groups, exposures (from the typed manifest),
semantic models and metrics (from the semantic YAML under `Layout.SEMANTIC_DIR`).
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from sqlglot import exp

from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.errors import did_you_mean
from seeknal_sqlmesh.workflow.context import UnknownNode, Workspace

if t.TYPE_CHECKING:
    from sqlglot.optimizer.scope import Scope
    from sqlmesh.core.model import Model

    from seeknal_sqlmesh.runtime.environments import EnvironmentTables


@dataclass
class LineageGraph:
    """Columns (`model.column`) and Seeknal nodes, and edges in the direction data flows (from -> to)."""

    root: str
    direction: str  # upstream | downstream
    nodes: t.Dict[str, t.Dict[str, t.Any]] = field(default_factory=dict)
    edges: t.List[t.Tuple[str, str]] = field(default_factory=list)

    def add_edge(self, source: str, target: str) -> None:
        if (source, target) not in self.edges:
            self.edges.append((source, target))

    def children(self, node: str) -> t.List[str]:
        """What the tree shows under `node`: its parents for upstream lineage, its dependants for impact."""
        if self.direction == "upstream":
            return [s for s, d in self.edges if d == node]
        return [d for s, d in self.edges if s == node]

    def leaves(self) -> t.List[str]:
        """Upstream: the source columns; downstream: the last things fed."""
        return sorted(n for n in self.nodes if not self.children(n))

    def to_dict(self) -> t.Dict[str, t.Any]:
        return {
            "root": self.root,
            "direction": self.direction,
            "nodes": [{"id": k, **v} for k, v in sorted(self.nodes.items())],
            "edges": [{"from": s, "to": d} for s, d in sorted(self.edges)],
        }

    def tree(self) -> str:
        """The graph as an indented tree from the root; a node seen before is not expanded again."""
        lines = [self._label(self.root)]
        seen = {self.root}

        def walk(node: str, prefix: str) -> None:
            kids = sorted(self.children(node))
            for i, kid in enumerate(kids):
                last = i == len(kids) - 1
                again = kid in seen and bool(self.children(kid))
                lines.append(f"{prefix}{'└── ' if last else '├── '}{self._label(kid)}{' (see above)' if again else ''}")
                if kid not in seen:
                    seen.add(kid)
                    walk(kid, prefix + ("    " if last else "│   "))

        walk(self.root, "")
        return "\n".join(lines) + "\n"

    def _label(self, node: str) -> str:
        info = self.nodes.get(node, {})
        tag = info.get("note") or ("" if info.get("type") == "column" else info.get("type", ""))
        return f"{node}  [{tag}]" if tag else node


class ColumnLineage:
    """Column-level lineage of the project's models, opened on one workspace (caches queries and schemas)."""

    def __init__(self, ws: Workspace, environment: str = "prod", models: t.Optional[t.Mapping[str, Model]] = None):
        """`models` (fqn -> model) replaces the project's models: the versions an environment had, for what a plan
        removes (see `workflow/columns.py`)."""
        self.ws = ws
        self.environment = environment
        self.models: t.Mapping[str, Model] = ws.context.models if models is None else models
        self._dag: t.Any = None if models is None else self._build_dag(models)
        self._columns: t.Dict[str, t.Optional[t.Dict[str, str]]] = {}
        self._scopes: t.Dict[str, t.Optional[t.Tuple[exp.Query, Scope]]] = {}
        self._tables: t.Any = None
        self._owners: t.Optional[t.Dict[str, t.Tuple[str, str]]] = None

    # ------------------------------------------------------------------ schema of each model

    def columns(self, fqn: str) -> t.Optional[t.Dict[str, str]]:
        """Column -> type of a model: declared or derived from its query; a Python model's from the warehouse."""
        if fqn in self._columns:
            return self._columns[fqn]
        self._columns[fqn] = None  # a cycle through a broken project stops here
        model = self.models.get(fqn)
        found: t.Optional[t.Dict[str, str]] = None
        if model is not None and model.columns_to_types:
            found = {c: dtype.sql(dialect=model.dialect) for c, dtype in model.columns_to_types.items()}
        elif model is not None and model.is_sql:
            scoped = self._scope(fqn)
            if scoped is not None and not any(isinstance(s, exp.Star) or s.is_star for s in scoped[0].selects):
                found = dict.fromkeys(scoped[0].named_selects, "UNKNOWN")
        if found is None and model is not None and model.is_python:
            found = self._warehouse_columns(fqn)
        self._columns[fqn] = found
        return found

    def _environment_tables(self) -> t.Optional[EnvironmentTables]:
        if self._tables is None:
            from seeknal_sqlmesh.runtime.environments import EnvironmentNotFound

            try:
                self._tables = self.ws.environment_tables(self.environment)
            except EnvironmentNotFound:
                self._tables = False
        return self._tables or None

    def _warehouse_columns(self, fqn: str) -> t.Optional[t.Dict[str, str]]:
        ctx = self.ws.context
        model = self.models.get(fqn)
        tables = self._environment_tables()
        if tables is None or model is None or (model.gateway and model.gateway != ctx.selected_gateway):
            return None
        view = tables.view(model.name)
        if view is None:
            return None
        try:
            found = ctx.engine_adapter.columns(view.sql(dialect=ctx.engine_adapter.dialect))
        except Exception:  # the environment's table is gone (janitor) or unreadable: no schema, not an error
            return None
        return {c: dtype.sql(dialect=model.dialect) for c, dtype in found.items()}

    def schema(self, model: Model) -> t.Dict[str, t.Any]:
        """The nested schema (catalog -> db -> table -> column -> type) of the model's parents that are known."""
        out: t.Dict[str, t.Any] = {}
        for dep in sorted(model.depends_on or ()):
            cols = self.columns(dep)
            if cols is None:
                continue
            table = exp.to_table(dep)
            out.setdefault(table.catalog, {}).setdefault(table.db, {})[table.name] = cols
        return out

    def rendered_query(self, fqn: str) -> t.Optional[exp.Query]:
        """The model's query as SQLMesh renders it (references are model names), or None for Python models."""
        model = self.models.get(fqn)
        if model is None or not model.is_sql or model.kind.is_external:
            return None
        try:
            query = model.render_query()
        except Exception:
            return None
        return query.copy() if isinstance(query, exp.Query) else None

    def _scope(self, fqn: str) -> t.Optional[t.Tuple[exp.Query, Scope]]:
        if fqn in self._scopes:
            return self._scopes[fqn]
        self._scopes[fqn] = None
        query = self.rendered_query(fqn)
        if query is None:
            return None
        from sqlglot.optimizer import build_scope, qualify

        model = self.models[fqn]
        qualified = qualify.qualify(
            query, dialect=model.dialect, schema=self.schema(model), validate_qualify_columns=False, infer_schema=True
        )
        scope = build_scope(qualified)
        if scope is not None and isinstance(qualified, exp.Query):
            self._scopes[fqn] = (qualified, scope)
        return self._scopes[fqn]

    # ------------------------------------------------------------------ one hop

    def parents(self, fqn: str, column: str) -> t.Dict[str, t.Set[str]]:
        """The parent model columns `column` of model `fqn` is computed from (one hop, as sqlglot sees it)."""
        from sqlglot.errors import SqlglotError
        from sqlglot.lineage import lineage
        from sqlmesh.core.dialect import normalize_model_name

        scoped = self._scope(fqn)
        if scoped is None:
            return {}
        query, scope = scoped
        model = self.models[fqn]
        try:
            node = lineage(column, sql=query, scope=scope, dialect=model.dialect, trim_selects=False, copy=False)
        except SqlglotError:  # a column the query does not spell out (`SELECT *` over a file): no parent column
            return {}
        out: t.Dict[str, t.Set[str]] = {}
        for item in node.walk():
            if item.downstream:
                continue
            table = item.expression.find(exp.Table)
            if table is None:
                continue
            parent = normalize_model_name(table, default_catalog=self.ws.context.default_catalog, dialect=model.dialect)
            out.setdefault(parent, set()).add(exp.to_column(item.name).name)
        return out

    # ------------------------------------------------------------------ graphs

    def check_column(self, model: Model, column: str) -> str:
        cols = self.columns(model.fqn)
        if cols is None:
            return column
        by_lower = {c.lower(): c for c in cols}
        if column.lower() not in by_lower:
            raise UnknownNode(
                f"model {model.name} has no column '{column}'{did_you_mean(column, cols)}",
                f"its columns: {', '.join(cols)}",
            )
        return by_lower[column.lower()]

    def upstream(self, column_id: str) -> LineageGraph:
        """Every column `column_id` is computed from, back to the source columns."""
        model, column = self.ws.column(column_id)
        column = self.check_column(model, column)
        graph = LineageGraph(self._id(model.fqn, column), "upstream")
        self._add(graph, model.fqn, column)
        stack = [(model.fqn, column)]
        done: t.Set[t.Tuple[str, str]] = set()
        while stack:
            fqn, col = stack.pop()
            if (fqn, col) in done:
                continue
            done.add((fqn, col))
            target = self._id(fqn, col)
            for parent, cols in sorted(self.parents(fqn, col).items()):
                for parent_col in sorted(cols):
                    self._add(graph, parent, parent_col)
                    graph.add_edge(self._id(parent, parent_col), target)
                    if parent in self.models:
                        stack.append((parent, parent_col))
        by_name = self.ws.models_by_name()
        for node_id, info in graph.nodes.items():
            if info["note"] or graph.children(node_id):
                continue
            leaf = by_name.get(info["model"].lower())
            if info["kind"] in ("source", "external"):
                info["note"] = "source column"
            elif leaf is not None and not leaf.is_sql:
                info["note"] = "python model: not traced further"
            else:
                info["note"] = "no parent column"  # a constant, COUNT(*), or a function reading no model
        return graph

    def downstream(self, column_id: str) -> LineageGraph:
        """Every column of every model downstream that is computed from `column_id`."""
        model, column = self.ws.column(column_id)
        return self.downstream_from(model.fqn, self.check_column(model, column))

    def downstream_from(self, root: str, column: str) -> LineageGraph:
        """`downstream` of model `root`'s `column`, not checked against the model (a column a plan removes)."""
        graph = LineageGraph(self._id(root, column), "downstream")
        self._add(graph, root, column)
        hit: t.Dict[str, t.Set[str]] = {root: {column}}
        for fqn in self._downstream_models(root):
            child = self.models.get(fqn)
            parents_hit = set(child.depends_on or ()) & set(hit) if child is not None else set()
            if child is None or not parents_hit:
                continue
            if not child.is_sql:  # a Python model is opaque: all of it depends on what it reads
                self._add(graph, fqn, "*", note="python model")
                for parent in parents_hit:
                    for col in hit[parent]:
                        graph.add_edge(self._id(parent, col), self._id(fqn, "*"))
                hit[fqn] = {"*"}
                continue
            for col in self.columns(fqn) or {}:
                for parent, cols in self.parents(fqn, col).items():
                    used = cols & hit.get(parent, set()) if "*" not in hit.get(parent, set()) else cols
                    for parent_col in sorted(used):
                        self._add(graph, fqn, col)
                        graph.add_edge(self._id(parent, parent_col), self._id(fqn, col))
                        hit.setdefault(fqn, set()).add(col)
        return graph

    def _downstream_models(self, fqn: str) -> t.List[str]:
        """Models downstream of `fqn`, parents before children."""
        return list((self._dag or self.ws.context.dag).downstream(fqn))

    @staticmethod
    def _build_dag(models: t.Mapping[str, Model]) -> t.Any:
        from sqlmesh.utils.dag import DAG

        return DAG({name: set(m.depends_on or ()) & set(models) for name, m in models.items()})

    # ------------------------------------------------------------------ naming

    def owners(self) -> t.Dict[str, t.Tuple[str, str]]:
        """Model name -> (Seeknal node id, kind) from the manifest."""
        if self._owners is None:
            self._owners = {}
            for node_id, entry in sorted(self.ws.manifest.nodes.items()):
                for name in entry.models:
                    self._owners.setdefault(name.lower(), (node_id, entry.kind))
        return self._owners

    def _id(self, fqn: str, column: str) -> str:
        return f"{self.ws.display_name(fqn)}.{column}"

    def _add(self, graph: LineageGraph, fqn: str, column: str, note: str = "") -> None:
        model_name = self.ws.display_name(fqn)
        node_id, kind = self.owners().get(model_name.lower(), ("", ""))
        model = self.models.get(fqn)
        if not kind:
            kind = "external" if model is None or model.kind.is_external else model_name.split(".")[0]
        graph.nodes.setdefault(
            self._id(fqn, column),
            {"type": "column", "model": model_name, "column": column, "node": node_id, "kind": kind, "note": note},
        )


def lineage(ws: Workspace, column_id: str, *, environment: str = "prod") -> LineageGraph:
    """Upstream column lineage of `kind.name.column` down to source columns."""
    return ColumnLineage(ws, environment).upstream(column_id)


def impact(ws: Workspace, column_id: str, *, environment: str = "prod") -> LineageGraph:
    """Every downstream column of `kind.name.column`, and the feature groups, exposures, semantic models and metrics
    that use them."""
    graph = ColumnLineage(ws, environment).downstream(column_id)
    hit: t.Dict[str, t.List[str]] = {}  # model name (lower case) -> ids of its impacted columns
    for node_id, info in sorted(graph.nodes.items()):
        hit.setdefault(info["model"].lower(), []).append(node_id)
    for node_id, entry in sorted(ws.manifest.nodes.items()):
        if entry.kind == "feature_group" and entry.models and entry.models[0].lower() in hit:
            _use(graph, node_id, "feature_group", hit[entry.models[0].lower()])
        elif entry.kind == "exposure":
            read = [m.lower() for m in [entry.upstream_model or "", *entry.models] if m.lower() in hit]
            if read:
                _use(graph, node_id, "exposure", [c for m in dict.fromkeys(read) for c in hit[m]])
    _semantic_uses(ws, graph, hit)
    return graph


def _use(graph: LineageGraph, node_id: str, kind: str, sources: t.Iterable[str], note: str = "") -> None:
    graph.nodes.setdefault(node_id, {"type": kind, "node": node_id, "kind": kind, "note": note})
    for source in sources:
        graph.add_edge(source, node_id)


# ---------------------------------------------------------------------- semantic models and metrics

_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*\)""")
_DIMENSION = re.compile(r"""(?:Dimension|Entity|TimeDimension)\(\s*['"](?:\w+__)?(\w+)""")


def _identifiers(sql: t.Any, dialect: str) -> t.Set[str]:
    """Column names an expression or filter mentions (lower case)."""
    if not sql or not isinstance(sql, str):
        return set()
    found = {m.lower() for m in _DIMENSION.findall(sql)}
    try:
        import sqlglot

        parsed = sqlglot.parse_one(_DIMENSION.sub("x", sql), dialect=dialect)
    except Exception:
        return found | {w.lower() for w in re.findall(r"[A-Za-z_]\w*", sql)}
    return found | {c.name.lower() for c in parsed.find_all(exp.Column)}


def _semantic_docs(ws: Workspace) -> t.List[t.Dict[str, t.Any]]:
    """Every semantic YAML document the translation copied (Seeknal `kind:` documents)."""
    import yaml

    root = ws.translated / Layout.SEMANTIC_DIR
    docs: t.List[t.Dict[str, t.Any]] = []
    for path in sorted(root.rglob("*.y*ml")) if root.is_dir() else []:
        try:
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict))
        except yaml.YAMLError:
            continue
    return docs


def _metric_refs(metric: t.Dict[str, t.Any], dialect: str) -> t.Set[str]:
    """Names a metric uses: measures, metrics, and the dimensions its filters and expressions mention."""
    refs: t.Set[str] = set()
    params = {**metric, **(metric.get("type_params") or {})}
    for key in ("measure", "numerator", "denominator"):
        value = params.get(key)
        if isinstance(value, dict):
            refs |= _identifiers(value.get("filter"), dialect)
            value = value.get("name") or value.get("measure") or value.get("metric")
        if isinstance(value, str):
            refs.add(value.lower())
    for item in list(params.get("inputs") or []) + list(params.get("metrics") or []):
        if isinstance(item, str):
            refs.add(item.lower())
        elif isinstance(item, dict):
            refs |= {str(item[k]).lower() for k in ("metric", "measure", "name") if item.get(k)}
    for key in ("expr", "filter"):
        values = params.get(key)
        for value in values if isinstance(values, list) else [values]:
            refs |= _identifiers(value, dialect)
    return refs


def _semantic_uses(ws: Workspace, graph: LineageGraph, hit: t.Dict[str, t.List[str]]) -> None:
    """Semantic models whose entities, dimensions or measures read an impacted column; metrics built on those."""
    dialect = ws.context.default_dialect or "duckdb"
    elements: t.Dict[str, t.Set[str]] = {}  # impacted element name -> the semantic models defining it
    metrics: t.List[t.Tuple[str, t.Dict[str, t.Any], str]] = []
    for doc in _semantic_docs(ws):
        if doc.get("kind") == "metric":
            metrics.append((str(doc.get("name")), doc, ""))
        if doc.get("kind") != "semantic_model":
            continue
        node_id = f"semantic_model.{doc.get('name')}"
        metrics += [
            (str(m.get("name")), m, f"defined in {node_id}") for m in doc.get("metrics") or [] if isinstance(m, dict)
        ]
        match = _REF.search(str(doc.get("model") or ""))
        entry = ws.manifest.nodes.get(match.group(1)) if match else None
        model = (
            (entry.models[0] if entry is not None and entry.models else None) or (match.group(1) if match else "")
        ).lower()
        columns = {graph.nodes[c]["column"].lower() for c in hit.get(model, [])}
        used = []
        for section, label in (("entities", "entity"), ("dimensions", "dimension"), ("measures", "measure")):
            for element in doc.get(section) or []:
                if not isinstance(element, dict) or not element.get("name"):
                    continue
                name = str(element["name"])
                expr = element.get("expr")
                mentioned = _identifiers(str(expr), dialect) if expr is not None else {name.lower()}
                for flt in element.get("filters") or []:
                    mentioned |= _identifiers(flt.get("sql") if isinstance(flt, dict) else flt, dialect)
                if mentioned & columns or ("*" in columns and columns):
                    elements.setdefault(name.lower(), set()).add(node_id)
                    used.append(f"{label} {name}")
        if used:
            _use(graph, node_id, "semantic_model", hit[model], note=", ".join(used))
    metric_ids = {name.lower(): f"metric.{name}" for name, _, _ in metrics}
    impacted: t.Set[str] = set()
    changed = True
    while changed:  # metrics of metrics: until nothing new is impacted
        changed = False
        for name, doc, note in metrics:
            if name.lower() in impacted:
                continue
            refs = _metric_refs(doc, dialect)
            sources = sorted({m for r in refs for m in elements.get(r, set())})
            sources += sorted(metric_ids[r] for r in refs if r in impacted and r != name.lower())
            if sources:
                impacted.add(name.lower())
                _use(graph, f"metric.{name}", "metric", sources, note=note)
                changed = True
