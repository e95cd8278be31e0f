"""Small builders for throwaway Seeknal projects in tests."""

from __future__ import annotations

import textwrap
import typing as t
from pathlib import Path

import yaml


def write_project(root: Path, nodes: t.Dict[str, t.Any], files: t.Optional[t.Dict[str, str]] = None, name: str = "demo") -> Path:
    """`nodes`: relative path under seeknal/ -> node dict (dumped as YAML) or raw text."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "seeknal_project.yml").write_text(f"name: {name}\nversion: 1.0.0\n")
    for rel, content in nodes.items():
        path = root / "seeknal" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    for rel, content in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return root


def orders_csv() -> str:
    return "order_id,customer_id,order_date,amount\n1,C1,2024-01-01,10\n2,C1,2024-01-02,20\n3,C2,2024-01-02,5\n"
