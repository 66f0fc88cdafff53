"""The layout's import rules (docs/architecture.md), read from the source like the route table.

platform/ is the domain and imports no web area (the app factory, the composition root,
excepted); portal/ and admin/ reach the database only through platform's services; SQL is
written only in a feature's service.py or queries.py (and migrations/); an import inside a
function says why it cannot be at the top. Every .py file of the three folders is parsed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AREAS = ("platform", "portal", "admin")
COMPOSITION_ROOT = "platform/app.py"
SQL_FILES = {"service.py", "queries.py"}
# A statement, not a word in prose: the keywords in capitals, with what must follow them.
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+\w+(\s+\w+)?\s+SET\b|\bDELETE FROM\b"
)


def modules(*areas: str) -> list[Path]:
    return sorted(path for area in areas for path in (ROOT / area).rglob("*.py"))


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Each imported module's dotted name (``from a import b`` gives ``a`` and ``a.b``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of bare string expressions: docstrings and the like are prose, not SQL."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.JoinedStr)
    }


def sql_literals(tree: ast.AST) -> Iterator[int]:
    """The lines of string literals (f-strings with their holes as ``?``) that hold SQL."""
    prose = _docstrings(tree)
    parts: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in prose or id(node) in parts:
            continue
        if isinstance(node, ast.JoinedStr):
            parts.update(id(value) for value in node.values)
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "?"
                for v in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if SQL.search(text):
            yield node.lineno


def function_level_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    yield node


def test_platform_imports_no_web_area() -> None:
    found = [
        f"{name(path)}:{line} imports {module}"
        for path in modules("platform")
        if name(path) != COMPOSITION_ROOT
        for line, module in imported(parsed(path))
        if module.split(".")[:2] in (["okno", "portal"], ["okno", "admin"])
    ]
    assert found == []


def test_the_web_areas_reach_the_database_only_through_services() -> None:
    found = [
        f"{name(path)}:{line} imports {module}"
        for path in modules("portal", "admin")
        for line, module in imported(parsed(path))
        if module == "okno.platform.database" or module.split(".")[0] == "asyncpg"
    ]
    assert found == []


def test_the_web_areas_write_no_sql() -> None:
    found = [
        f"{name(path)}:{line}"
        for path in modules("portal", "admin")
        for line in sql_literals(parsed(path))
    ]
    assert found == []


def test_platform_writes_sql_only_in_services_and_queries() -> None:
    found = [
        f"{name(path)}:{line}"
        for path in modules("platform")
        if path.name not in SQL_FILES
        for line in sql_literals(parsed(path))
    ]
    assert found == []


def _commented(lines: list[str], node: ast.Import | ast.ImportFrom) -> bool:
    above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
    own = lines[node.lineno - 1 : node.end_lineno or node.lineno]
    return above.startswith("#") or any("#" in line for line in own)


def test_every_import_inside_a_function_says_why() -> None:
    found = []
    for path in modules(*AREAS):
        lines = path.read_text(encoding="utf-8").splitlines()
        found += [
            f"{name(path)}:{node.lineno}"
            for node in function_level_imports(parsed(path))
            if not _commented(lines, node)
        ]
    assert found == []


# Source texts the SQL detector reads (parsed, never run against a database): statements it
# must find, and prose it must leave alone.
@pytest.mark.parametrize(
    ("source", "holds_sql"),
    [
        ('Q = "SELECT id FROM team WHERE name = $1"', True),
        ('Q = f"UPDATE conversation c SET {clause}"', True),
        ('Q = "INSERT INTO team (name) VALUES ($1)"', True),
        ('Q = ("DELETE FROM canned_reply"\n     " WHERE id = $1")', True),
        ('def f():\n    """SELECT the rows FROM the log, in prose."""', False),
        ('MESSAGE = "Select a team from the list"', False),
        ('Q = "SELECT 1"', False),
    ],
)
def test_the_sql_detector_tells_statements_from_prose(source: str, holds_sql: bool) -> None:
    assert bool(list(sql_literals(ast.parse(source)))) is holds_sql
