"""SQL text from sqlglot trees, through private generator subclasses.

sqlglot caches each generator class's dispatch table the first time it renders. SQLMesh adds its macro expressions
to the dialects' generators when it is imported; if the semantic layer rendered SQL with a dialect's own generator
before that, the cached table would lack them and SQLMesh would later fail ("Unsupported expression type MacroVar")
in the same process. Rendering with subclasses keeps the dialects' own classes untouched.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

_GENERATORS: t.Dict[type, type] = {}


def to_sql(tree: exp.Expression, dialect: t.Optional[str] = "duckdb", pretty: bool = False) -> str:
    d = Dialect.get_or_raise(dialect)
    base = d.generator_class
    cls = _GENERATORS.get(base)
    if cls is None:
        cls = _GENERATORS[base] = type(f"Semantic{base.__name__}", (base,), {})
    return cls(dialect=d, pretty=pretty).generate(tree, copy=True)
