"""Python decorator nodes (`@source`, `@transform`, `@feature_group`, `@second_order_aggregation`, `@materialize`),
found by reading the files with `ast` — never by importing or running them."""

from __future__ import annotations

import ast
import difflib
import typing as t
from pathlib import Path

from seeknal_sqlmesh.errors import Problems
from seeknal_sqlmesh.project.models import PythonNodeInfo

DECORATOR_KINDS = {
    "source": "source",
    "transform": "transform",
    "feature_group": "feature_group",
    "second_order_aggregation": "second_order_aggregation",
}
# The named arguments of Seeknal 2.13's decorators (seeknal.pipeline.decorators). Every other keyword argument lands
# in the node's `params` (its `**params`), which the function reads with `ctx.get_param(name)`.
DECORATOR_ARGUMENTS = {
    "source": {"name", "source", "table", "columns", "tags", "materialization", "query", "connection"},
    "transform": {"name", "sql", "inputs", "tags", "materialization"},
    "feature_group": {"name", "entity", "features", "inputs", "materialization", "tags"},
    "second_order_aggregation": {
        "name",
        "id_col",
        "feature_date_col",
        "features",
        "application_date_col",
        "description",
        "owner",
        "tags",
        "materialization",
    },
}


def _decorator_name(dec: ast.expr) -> t.Optional[str]:
    target = dec.func if isinstance(dec, ast.Call) else dec
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _literal_kwargs(dec: ast.expr, path: Path, node_name: str, problems: Problems) -> t.Dict[str, t.Any]:
    if not isinstance(dec, ast.Call):
        return {}
    kwargs: t.Dict[str, t.Any] = {}
    for kw in dec.keywords:
        if kw.arg is None:
            continue
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            problems.error(
                path,
                node_name,
                kw.arg,
                f"decorator argument at line {kw.value.lineno} is not a literal",
                "Seeknal nodes are read without running the file: use literal values",
            )
    return kwargs


def _ref_calls(func: ast.FunctionDef) -> t.List[str]:
    refs = []
    for call in ast.walk(func):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "ref"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            refs.append(call.args[0].value)
    return list(dict.fromkeys(refs))


def _decorator_params(
    kind: str, fields: t.Dict[str, t.Any], path: Path, function: str, problems: Problems
) -> t.Dict[str, t.Any]:
    """Seeknal's `**params`: the keyword arguments that are not the decorator's own, plus `query`/`connection` of
    `@source` (params in YAML too). A name close to one of the decorator's arguments is probably a typo: warn."""
    known = DECORATOR_ARGUMENTS[kind]
    params = dict(fields.pop("params", None) or {})  # an explicit params={...} (our YAML spelling) is kept
    for key in [k for k in fields if k not in known and k not in ("kind", "transform", "source")]:
        params[key] = fields.pop(key)
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
        if close:
            problems.warn(
                path,
                f"{kind}.{fields.get('name', function)}",
                key,
                f"decorator argument '{key}' is passed to the function as a parameter (did you mean: {close[0]}?)",
            )
    if kind == "source":
        for key in ("query", "connection"):
            if key in fields:
                params[key] = fields.pop(key)
    return params


def read_python_nodes(path: Path, problems: Problems) -> t.List[t.Tuple[t.Dict[str, t.Any], PythonNodeInfo]]:
    """Return (node fields as YAML would have them, python info) for each decorated function in `path`."""
    source = path.read_text()
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as e:
        problems.error(path, "", "", f"Python syntax error at line {e.lineno}: {e.msg}")
        return []
    found = []
    lines = source.splitlines(keepends=True)
    for func in tree.body:
        if not isinstance(func, ast.FunctionDef):
            continue
        kind, fields, materialize = None, {}, []
        for dec in func.decorator_list:
            name = _decorator_name(dec)
            if name in DECORATOR_KINDS:
                kind = DECORATOR_KINDS[name]
                fields = _literal_kwargs(dec, path, func.name, problems)
            elif name == "materialize":
                materialize.append(_literal_kwargs(dec, path, func.name, problems))
        if kind is None:
            continue
        fields.setdefault("name", func.name)
        fields["kind"] = kind
        if kind == "transform":
            fields.setdefault("transform", "")  # the function body is the transform
        if kind == "second_order_aggregation":
            fields.setdefault(
                "source", ""
            )  # the function body returns the data source (see translators/python_node.py)
        fields["params"] = _decorator_params(kind, fields, path, func.name, problems)
        if materialize and "materializations" not in fields and "materialization" not in fields:
            fields["materializations"] = materialize
        func_source = "".join(lines[func.lineno - 1 : func.end_lineno])
        found.append(
            (
                fields,
                PythonNodeInfo(
                    decorator=kind,
                    function=func.name,
                    source=func_source,
                    module_source=source,
                    ref_calls=_ref_calls(func),
                    materialize=materialize,
                ),
            )
        )
    return found
