"""scripts/import_cycles.py: finds cycles through lazy (function-level) imports, ignores TYPE_CHECKING imports,
and the core (project, translators, runtime, macros) has none."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "import_cycles.py"
CORE = ("project", "translators", "runtime", "macros")

spec = importlib.util.spec_from_file_location("import_cycles", SCRIPT)
assert spec is not None and spec.loader is not None
import_cycles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(import_cycles)


def package(root: Path, files: t.Dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / "pkg"


def run(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True)


def test_a_lazy_import_does_not_hide_a_cycle(tmp_path):
    folder = package(
        tmp_path,
        {
            "__init__.py": "",
            "sub/__init__.py": "",
            "sub/a.py": "from pkg.sub import b\n",
            "sub/b.py": "def f():\n    from . import c\n",
            "sub/c.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.sub import a\nelse:\n    from ..sub.a import x\n",
        },
    )
    assert import_cycles.import_graph(folder)["pkg.sub.b"] == {"pkg.sub.c"}
    done = run(folder)
    assert done.returncode == 1
    assert "import cycle: pkg.sub.a -> pkg.sub.b -> pkg.sub.c -> pkg.sub.a" in done.stdout


def test_type_checking_imports_are_not_edges(tmp_path):
    folder = package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "from __future__ import annotations\nimport typing as t\nif t.TYPE_CHECKING:\n    from pkg.a import A\n",
        },
    )
    done = run(folder)
    assert done.returncode == 0, done.stdout
    assert "no import cycles" in done.stdout


def in_core(module: str) -> bool:
    parts = module.split(".")  # seeknal_sqlmesh.<folder>.<module>
    return len(parts) > 1 and parts[1] in CORE


def test_the_core_has_no_import_cycle():
    found = import_cycles.cycles(import_cycles.import_graph(ROOT / "seeknal_sqlmesh"))
    assert [cycle for cycle, group in found if any(in_core(m) for m in group)] == []
