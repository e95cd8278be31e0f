"""Read a Seeknal project exactly as Seeknal 2.13 discovers it, collecting every problem in one pass."""

from __future__ import annotations

import heapq
import typing as t
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from seeknal_sqlmesh import plugins
from seeknal_sqlmesh.errors import Problems, did_you_mean
from seeknal_sqlmesh.project.models import KINDS, NODE_CLASSES, KeyPath, Node, Project, PythonNodeInfo, unknown_keys
from seeknal_sqlmesh.project.profiles import find_profile, load_profile
from seeknal_sqlmesh.project.python_nodes import read_python_nodes
from seeknal_sqlmesh.project.templating import TemplateError, TemplateScope, flatten_common, resolve_value

COMMON_FILES = ("sources", "rules", "transformations")
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster on big projects


def discover(root: Path) -> t.Tuple[t.List[Path], t.List[Path]]:
    """`seeknal/**/*.yml` and `seeknal/**/*.py` minus `seeknal/common/` (and templates, `_private.py`)."""
    base = root / "seeknal"
    common = base / "common"
    yml = sorted(p for p in base.rglob("*.yml") if common not in p.parents)
    py = sorted(
        p
        for p in base.rglob("*.py")
        if common not in p.parents and (base / "templates") not in p.parents and not p.name.startswith("_")
    )
    return yml, py


def _field_of(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))


def _dotted(parts: KeyPath) -> str:
    """("materializations", 0, "lookbak") -> "materializations[0].lookbak"."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def warn_unknown_keys(
    node: Node,
    fields: t.Mapping[str, t.Any],
    problems: Problems,
    *,
    dropped: t.Iterable[str] = (),
    python: bool = False,
) -> None:
    """Warn about every key of the node (nested ones too) that nothing reads, naming file, node and key path.

    Seeknal accepts such keys, so this is not an error; but a misspelled key would otherwise change the translation
    without a word. `dropped`: top-level keys the loader removed before validation (they name its own fields).
    """
    kind = node.kind
    found = [((key,), type(node)) for key in sorted(dropped)] + list(unknown_keys(node))
    for parts, owner in found:
        key = str(parts[-1])
        top = len(parts) == 1
        if top and key in plugins.node_keys(kind):
            continue
        if parts[0] == "materializations" and "materialization" in fields and kind != "feature_group":
            parts = ("materialization", *parts[2:])  # name it as written: the singular form is entry 0
        what = "decorator argument" if python and top else "key"
        advice = owner.IGNORED_KEYS.get(key)
        if advice:
            problems.warn(node.path, node.id, _dotted(parts), f"{what} '{key}' is ignored", advice)
            continue
        known = [*owner.known_keys(), *(plugins.node_keys(kind) if top else ())]
        problems.warn(
            node.path, node.id, _dotted(parts), f"unknown {what} '{key}' is ignored{did_you_mean(key, known)}"
        )


def _build_node(
    fields: t.Dict[str, t.Any], path: Path, problems: Problems, *, python: bool = False
) -> t.Optional[Node]:
    kind, name = fields.get("kind"), fields.get("name")
    node_id = f"{kind}.{name}" if name else str(kind)
    if kind not in NODE_CLASSES:
        problems.error(path, node_id, "kind", f"unknown kind '{kind}'", f"expected one of: {', '.join(KINDS)}")
        return None
    if not name:
        problems.error(path, node_id, "name", "missing required field 'name'")
        return None
    cls = NODE_CLASSES[kind]
    # Fields the loader sets (where the node came from) are never read from YAML: a YAML `path:` is an unknown key.
    internal = {n for n, f in cls.model_fields.items() if f.exclude}
    data = {k: v for k, v in fields.items() if k not in internal}
    if kind in ("semantic_model", "metric"):
        data["raw"] = dict(fields)
    try:
        node = cls.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            field_name = _field_of(err)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = f"missing required field '{field_name}'"
            problems.error(path, node_id, field_name, msg)
        return None
    node.path = path
    warn_unknown_keys(node, fields, problems, dropped=internal & fields.keys(), python=python)
    return node


def _load_yaml_documents(path: Path, problems: Problems) -> t.List[t.Dict[str, t.Any]]:
    try:
        docs = [d for d in yaml.load_all(path.read_text(), Loader=YAML_LOADER) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.error(path, "", "", f"malformed YAML{where}: {getattr(e, 'problem', None) or e}")
        return []
    usable = []
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc:
            problems.warn(path, "", "kind", "no 'kind' field: skipped (not a Seeknal node)")
            continue
        usable.append(doc)
    return usable


def _load_common(root: Path, problems: Problems) -> t.Dict[str, t.Any]:
    common: t.Dict[str, t.Any] = {}
    for name in COMMON_FILES:
        path = root / "seeknal" / "common" / f"{name}.yml"
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as e:
            problems.error(path, "", "", f"malformed YAML: {e}")
            continue
        if not isinstance(data, dict) or not isinstance(data.get(name, []), list):
            problems.error(path, "", name, f"expected a mapping with a '{name}:' list")
            continue
        common[name] = data.get(name) or []
    return common


def upstream_of(node: Node, python: t.Optional[PythonNodeInfo]) -> t.List[str]:
    """Seeknal's edges: `inputs`, exposures' `depends_on`, semantic `model: ref(...)`, Python `ctx.ref(...)`."""
    ups: t.List[str] = list(node.inputs)
    if not ups and node.kind == "exposure":
        ups = list(getattr(node, "depends_on", []))
    model_ref = getattr(node, "model", None)
    if node.kind == "semantic_model" and isinstance(model_ref, str) and model_ref.strip().startswith("ref("):
        ups.append(model_ref.strip()[4:-1].strip().strip("'\""))
    if python is not None:
        ups.extend(python.ref_calls)
    return list(dict.fromkeys(ups))


def _order(project: Project, problems: Problems) -> t.List[str]:
    """Kahn's algorithm with lexicographic tie-breaks (Seeknal's order); report nodes on a cycle."""
    indegree = dict.fromkeys(project.nodes, 0)
    children: t.Dict[str, t.List[str]] = {n: [] for n in project.nodes}
    for node_id, ups in project.edges.items():
        for up in ups:
            if up in project.nodes:
                indegree[node_id] += 1
                children[up].append(node_id)
    ready = [n for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        n = heapq.heappop(ready)
        order.append(n)
        for child in children[n]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, child)
    for n in sorted(set(project.nodes) - set(order)):
        cycle_ups = [u for u in project.edges[n] if u not in order]
        problems.error(project.nodes[n].path, n, "inputs", f"dependency cycle through {', '.join(cycle_ups)}")
    return order


def load_project(
    root: t.Union[str, Path],
    *,
    profile: t.Optional[Path] = None,
    profiles_env: t.Optional[str] = None,
    params: t.Optional[t.Dict[str, t.Any]] = None,
) -> t.Tuple[Project, Problems]:
    """Load and validate a Seeknal project. Problems are collected, not raised: call `problems.raise_if_any()`."""
    root = Path(root).resolve()
    problems = Problems(root)
    marker = root / "seeknal_project.yml"
    config: t.Dict[str, t.Any] = {}
    if not marker.is_file():
        problems.error(marker, "", "", "not a Seeknal project: seeknal_project.yml is missing")
    else:
        try:
            config = yaml.safe_load(marker.read_text()) or {}
        except yaml.YAMLError as e:
            problems.error(marker, "", "", f"malformed YAML: {e}")
    project = Project(root=root, name=str(config.get("name") or root.name), config=config)
    project.common = _load_common(root, problems)
    project.profile = load_profile(find_profile(root, profile, profiles_env), problems)

    yml_files, py_files = discover(root)
    candidates: t.List[t.Tuple[t.Dict[str, t.Any], Path, t.Optional[PythonNodeInfo]]] = []
    for path in yml_files:
        candidates.extend((doc, path, None) for doc in _load_yaml_documents(path, problems))
    for path in py_files:
        candidates.extend((fields, path, info) for fields, info in read_python_nodes(path, problems))

    seen: t.Dict[str, Path] = {}
    common_flat = flatten_common(project.common)
    for fields, path, info in candidates:
        node = _build_node(fields, path, problems, python=info is not None)
        if node is None:
            continue
        if node.id in seen:
            problems.error(
                path,
                node.id,
                "name",
                f"duplicate node id '{node.id}' (also defined in {problems.relative(seen[node.id])})",
            )
            continue
        seen[node.id] = path
        node.python = info is not None
        scope = TemplateScope(params={**(params or {})}, context=template_context(project), common=common_flat)
        try:
            node.params = resolve_value(node.params, scope)
        except TemplateError as e:
            problems.error(path, node.id, "params", str(e))
        project.nodes[node.id] = node
        if info is not None:
            project.python_nodes[node.id] = info

    for node_id, node in project.nodes.items():
        ups = upstream_of(node, project.python_nodes.get(node_id))
        for up in ups:
            if up not in project.nodes:
                known = [n for n in project.nodes if n.split(".", 1)[-1] == up.split(".", 1)[-1]]
                hint = f"did you mean {', '.join(known)}?" if known else "inputs are written as <kind>.<name>"
                problems.error(node.path, node_id, "inputs", f"unknown ref '{up}'", hint)
        project.edges[node_id] = [u for u in ups if u in project.nodes]
    project.order = _order(project, problems)
    return project, problems


def template_context(project: Project) -> t.Dict[str, t.Any]:
    """Seeknal's context values for `{{ }}` (run_id and run dates are run-time macros, see templating.py)."""
    return {"project_id": project.name, "workspace_path": "."}
