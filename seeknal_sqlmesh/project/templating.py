"""Seeknal's `{{ }}` substitution (not Jinja), resolved at translation time where the value is static.

Values that Seeknal computes at run time (dates, environment variables, run ids) must stay dynamic in SQLMesh,
otherwise every translation would bake in today's date and change fingerprints daily. They are replaced by a
sentinel token here; the SQL layer later swaps each token for a SQLMesh macro on the parsed AST
(see `seeknal_sqlmesh.translators.sql.replace_runtime_tokens`).
"""

from __future__ import annotations

import difflib
import re
import typing as t
from dataclasses import dataclass, field

TEMPLATE = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_FUNC = re.compile(r"^(today|month_start|year_start)\s*(?:\(\s*(-?\d+)?\s*\))?$")
_ENV = re.compile(r"^env\s*(?:\(\s*(.+?)\s*\)|:\s*(.+))$")
SENTINEL = re.compile(r"__seeknal_rt_(\d+)__")


class TemplateError(ValueError):
    """An expression that cannot be resolved; the message carries suggestions."""


@dataclass(frozen=True)
class RuntimeValue:
    """A value only known when SQLMesh runs the model: a call of one of the seeknal SQLMesh macros
    (seeknal_sqlmesh/macros), built as SQL by `translators.sql.macro_call`."""

    macro: str  # e.g. "seeknal_date"
    args: t.Tuple[t.Union[str, int], ...] = ()  # ("day", 0) -> @seeknal_date('day', 0)


@dataclass
class TemplateScope:
    """Everything a `{{ expr }}` may refer to, in Seeknal's resolution order."""

    params: t.Dict[str, t.Any] = field(default_factory=dict)
    context: t.Dict[str, t.Any] = field(default_factory=dict)
    common: t.Dict[str, t.Any] = field(default_factory=dict)  # flattened dotted keys
    runtime: t.List[RuntimeValue] = field(default_factory=list)

    def token_for(self, value: RuntimeValue) -> str:
        if value not in self.runtime:
            self.runtime.append(value)
        return f"__seeknal_rt_{self.runtime.index(value)}__"


# Seeknal names that mean "the run's date" and their SQLMesh counterparts. Seeknal's run date is the logical day
# being processed (`seeknal run --date D`); in SQLMesh that is the last day of the processed interval (a daily
# run executed on D+1 processes D). `@seeknal_date` computes it for every model kind (SQLMesh's own `@end_ds` is
# undefined for FULL models).
_RUN_DATES = {
    "today": RuntimeValue("seeknal_date", ("day", 0)),
    "date": RuntimeValue("seeknal_date", ("day", 0)),
    "run_date": RuntimeValue("seeknal_date", ("day", 0)),
    "end_date": RuntimeValue("seeknal_date", ("day", 0)),
    "start_date": RuntimeValue("seeknal_date", ("day", 0, "start")),
    "yesterday": RuntimeValue("seeknal_date", ("day", -1)),
    "run_id": RuntimeValue("seeknal_run_id"),
}


def _runtime_value(expr: str) -> t.Optional[RuntimeValue]:
    if expr in _RUN_DATES:
        return _RUN_DATES[expr]
    m = _FUNC.match(expr)
    if m:
        unit = {"today": "day", "month_start": "month", "year_start": "year"}[m.group(1)]
        return RuntimeValue("seeknal_date", (unit, int(m.group(2) or 0)))
    m = _ENV.match(expr)
    if m:
        spec = (m.group(1) or m.group(2)).strip().strip("'\"")
        var, _, default = spec.partition("|")
        return RuntimeValue("seeknal_env", (var.strip(), default.strip()))
    return None


def resolve(text: str, scope: TemplateScope) -> str:
    """Resolve every `{{ expr }}` in `text`; raise TemplateError listing all unresolvable expressions."""
    unknown: t.List[str] = []

    def substitute(match: re.Match) -> str:
        expr = match.group(1).strip()
        if expr in scope.params:
            return _to_text(scope.params[expr])
        if expr in scope.context:
            return _to_text(scope.context[expr])
        value = _runtime_value(expr)
        if value is not None:
            return scope.token_for(value)
        if expr in scope.common:
            return _to_text(scope.common[expr])
        if "." in expr and scope.common:
            close = difflib.get_close_matches(expr, list(scope.common), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            unknown.append(f"'{{{{ {expr} }}}}' is not defined in seeknal/common{hint}")
        return match.group(0)  # Seeknal leaves unknown names untouched

    resolved = TEMPLATE.sub(substitute, text)
    if unknown:
        raise TemplateError("; ".join(unknown))
    return resolved


def resolve_value(value: t.Any, scope: TemplateScope) -> t.Any:
    """Resolve templates inside params (recursively) with Seeknal's type conversion of whole-string results."""
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value.strip())
        resolved = resolve(value, scope)
        return _convert(resolved) if whole and resolved != value else resolved
    if isinstance(value, dict):
        return {k: resolve_value(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_value(v, scope) for v in value]
    return value


def _convert(text: str) -> t.Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _to_text(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten_common(common: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
    """seeknal/common/*.yml -> dotted keys: `<source id>.<param>`, `<source id>.ref`, `rules.<id>`, `transforms.<id>`."""
    flat: t.Dict[str, t.Any] = {}
    for item in common.get("sources", []) or []:
        sid = item.get("id")
        if not sid:
            continue
        if "ref" in item:
            flat[f"{sid}.ref"] = item["ref"]
        for key, value in (item.get("params") or {}).items():
            flat[f"{sid}.{key}"] = value
    for item in common.get("rules", []) or []:
        if item.get("id"):
            flat[f"rules.{item['id']}"] = item.get("value", "")
    for item in common.get("transformations", []) or []:
        if item.get("id"):
            flat[f"transforms.{item['id']}"] = item.get("sql", "")
    return flat
