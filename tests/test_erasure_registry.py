"""Every column that can hold a subject's PD is known to destruction: erased by a registered
eraser, scrubbed of the subject's values, or declared as not PD with the reason; each by the
feature whose table it is; and the registry fills itself from platform modules alone."""

from __future__ import annotations

import json
import subprocess
import sys

import asyncpg

from okno.platform.erasure import registry
from tests.conftest import ROOT

# Types that can carry a value someone typed: texts, JSON, bytes, arrays, addresses.
PD_TYPES = ("text", "character varying", "character", "jsonb", "json", "bytea", "ARRAY", "inet")


async def schema_columns(database_url: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t"
            "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " AND c.data_type = ANY($1::text[])",
            list(PD_TYPES),
        )
    finally:
        await conn.close()
    return {f"{row['table_name']}.{row['column_name']}" for row in rows}


async def test_every_column_that_can_hold_pd_is_erased_scrubbed_or_declared(database_url) -> None:
    registry.load()
    columns = await schema_columns(database_url)
    missing = sorted(columns - set(registry.COLUMNS))
    assert not missing, (
        "columns destruction knows nothing about: register them with their eraser"
        " (okno.platform.erasure.registry.eraser), as scrubbed, or as not_pd with a reason: "
        + ", ".join(missing)
    )
    stale = sorted(set(registry.COLUMNS) - columns)
    assert not stale, "declared columns that no longer exist: " + ", ".join(stale)
    for column, how in registry.COLUMNS.items():
        if how.startswith("not PD:"):
            assert len(how.removeprefix("not PD:").strip()) > 10, f"{column}: say why"


async def test_the_free_texts_the_audit_found_are_erased() -> None:
    registry.load()
    for column in ("conversation.tags", "review.body", "message.body", "attachment.name"):
        assert registry.COLUMNS[column].startswith("eraser:"), column
    for column in ("rights_request.details", "rights_request.requester", "portal_export.body"):
        assert registry.COLUMNS[column].startswith("eraser:"), column


def test_erasers_register_without_any_ui_module() -> None:
    """A CLI or a job that destroys imports no console and no portal, and still erases all."""
    script = (
        "import sys\n"
        "from okno.platform.erasure import destruction\n"
        "erasers = destruction.load_erasers()\n"
        "ui = sorted(m for m in sys.modules if m.startswith(('okno.admin', 'okno.portal')))\n"
        "print(sorted(erasers), ui)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    assert out.strip() == (
        "['channels', 'chat', 'consent', 'mailings', 'portal', 'reviews', 'rights',"
        " 'special-categories',"
        " 'subjects', 'webhooks'] []"
    ), out


# In a fresh process: what each feature's ERASURE modules declare, imported one by one in the
# order of Piccolo's app registry (registry.load's order), and the order load gives the erasers.
DECLARATIONS = """
import importlib, json
from okno.platform.erasure import registry
from okno.platform.piccolo_conf import APP_REGISTRY
early = sorted(registry.COLUMNS)
apps, owners, declared = {}, {}, {}
for app in APP_REGISTRY.apps:
    config = importlib.import_module(app)
    name = config.APP_CONFIG.app_name
    apps[name] = [app, list(config.ERASURE)]
    owners.update({table._meta.tablename: name for table in config.APP_CONFIG.table_classes})
    for module in config.ERASURE:
        before = set(registry.COLUMNS)
        importlib.import_module(module)
        declared.update({column: [name, module] for column in set(registry.COLUMNS) - before})
erasers = [[area, function.__module__] for area, function in registry.load().items()]
print(json.dumps({"early": early, "apps": apps, "owners": owners, "declared": declared,
                  "all": sorted(registry.COLUMNS), "erasers": erasers}))
"""


def test_each_feature_declares_the_columns_of_its_own_tables() -> None:
    """Every declaration comes from a module the owning feature's piccolo_app.py names in
    ERASURE: a column t.c is declared by the app whose Table class has the tablename t."""
    out = subprocess.run(
        [sys.executable, "-c", DECLARATIONS], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    found = json.loads(out)
    assert found["early"] == [], "declared on importing the app registry, before any ERASURE"
    for name, (app, modules) in found["apps"].items():
        package = app.rpartition(".")[0]
        assert modules, f"{app} names no ERASURE module"
        assert all(module.rpartition(".")[0] == package for module in modules), name
    undeclared = sorted(set(found["all"]) - set(found["declared"]))
    assert not undeclared, "declared by no ERASURE module, in its turn: " + ", ".join(undeclared)
    strays = [
        f"{column} (by {module}; the table is {found['owners'][column.partition('.')[0]]}'s)"
        for column, (name, module) in sorted(found["declared"].items())
        if found["owners"].get(column.partition(".")[0], name) != name
    ]
    assert not strays, "columns declared by another feature: " + ", ".join(strays)
    modules = [module for _, names in found["apps"].values() for module in names]
    order = [modules.index(module) for _, module in found["erasers"]]
    assert order == sorted(order), f"erasers out of the app registry's order: {found['erasers']}"


def test_a_column_declared_twice_differently_is_refused() -> None:
    import pytest

    registry.not_pd("test_table.note", reason="a test column, never PD")
    with pytest.raises(registry.RegistryError, match="declared twice"):
        registry.scrubbed("test_table.note", reason="now scrubbed")
    with pytest.raises(registry.RegistryError, match="reason"):
        registry.not_pd("test_table.other", reason=" ")
    del registry.COLUMNS["test_table.note"]
