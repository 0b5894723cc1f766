"""Models written as models: no function in the optimisation and procurement engines is
longer than ``MOST_LINES``, so a formulation reads as its named steps."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "arbiter"
PACKAGES = ("optimize", "procure")
MOST_LINES = 80


def long_functions(root: Path, most: int) -> list[str]:
    """``path:line name (n lines)`` of every function or method under ``root`` longer
    than ``most`` lines, decorators and docstring included."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > most:
                    out.append(
                        f"{root.name}/{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)"
                    )
    return out


def test_no_function_in_the_engines_is_over_80_lines():
    offenders = [f for pkg in PACKAGES for f in long_functions(SRC / pkg, MOST_LINES)]
    assert not offenders, "functions over 80 lines:\n" + "\n".join(offenders)


def test_the_walk_finds_a_long_function(tmp_path):
    # the check itself can fail: a function of 81 lines (and a method) is reported,
    # one of 80 is not
    body = "\n".join(f"    x{i} = {i}" for i in range(79))
    (tmp_path / "m.py").write_text(
        f"def long():\n{body}\n    return 0\n\n"
        f"def short():\n{body}\n\n"
        f"class C:\n    @staticmethod\n    def method():\n"
        + "\n".join(f"        y{i} = {i}" for i in range(80)),
        encoding="utf-8",
    )
    found = long_functions(tmp_path, MOST_LINES)
    assert [f.split(" ")[1] for f in found] == ["long", "method"]
    assert "(81 lines)" in found[0]
    assert "(82 lines)" in found[1]  # with its decorator
