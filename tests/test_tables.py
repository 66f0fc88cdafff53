"""Every table is declared once, as a Piccolo Table listed in its feature's AppConfig, and the
declaration says what the migrated schema holds: the same columns, types and nullability, and
the database's clock where the schema's default is now() (rows the builder writes are stamped
by the same clock as those written in SQL)."""

from __future__ import annotations

import os
from collections import Counter

import asyncpg
from piccolo.columns import Array, Column
from piccolo.conf.apps import AppConfig, Finder
from piccolo.table import Table

from okno.platform.database import DatabaseNow

# Piccolo's own bookkeeping, made by its migration runner, not by okno.
PICCOLO_OWN = {"migration"}

# The PostgreSQL type each Piccolo column class stands for (information_schema's data_type).
TYPES = {
    "Text": "text",
    "Varchar": "character varying",
    "Integer": "integer",
    "Serial": "integer",
    "BigInt": "bigint",
    "BigSerial": "bigint",
    "SmallInt": "smallint",
    "Boolean": "boolean",
    "Timestamptz": "timestamp with time zone",
    "Timestamp": "timestamp without time zone",
    "Date": "date",
    "UUID": "uuid",
    "JSONB": "jsonb",
    "JSON": "json",
    "Bytea": "bytea",
    "Array": "ARRAY",
    "Real": "real",
    "DoublePrecision": "double precision",
    "Numeric": "numeric",
    "Interval": "interval",
}
# Piccolo has no column for these; the nearest one stands in, and says so in its comment.
STAND_INS = {"inet": {"Text", "Varchar"}}
# An array's element type, as information_schema names it (udt_name without the underscore).
ELEMENTS = {
    "Text": "text",
    "Varchar": "varchar",
    "Integer": "int4",
    "BigInt": "int8",
    "UUID": "uuid",
}


def app_configs() -> list[AppConfig]:
    return Finder().get_app_registry().app_configs.values()  # type: ignore[return-value]


def declared_tables() -> list[type[Table]]:
    return [table for config in app_configs() for table in config.table_classes]


async def schema() -> dict[str, dict[str, asyncpg.Record]]:
    conn = await asyncpg.connect(os.environ["OKNO_MIGRATION_DATABASE_URL"])
    try:
        rows = await conn.fetch(
            "SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable,"
            " c.column_default"
            " FROM information_schema.columns c JOIN information_schema.tables t"
            "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        )
    finally:
        await conn.close()
    tables: dict[str, dict[str, asyncpg.Record]] = {}
    for row in rows:
        if row["table_name"] not in PICCOLO_OWN:
            tables.setdefault(row["table_name"], {})[row["column_name"]] = row
    return tables


def mismatch(table: str, column: Column, real: asyncpg.Record | None) -> str | None:
    name = column._meta.db_column_name
    kind = type(column).__name__
    if real is None:
        return f"{table}.{name}: declared, not in the schema"
    if kind not in STAND_INS.get(real["data_type"], set()) and TYPES.get(kind) != real["data_type"]:
        return f"{table}.{name}: declared {kind}, the schema has {real['data_type']}"
    if isinstance(column, Array):
        element = ELEMENTS.get(type(column.base_column).__name__)
        if element != real["udt_name"].removeprefix("_"):
            return f"{table}.{name}: declared an array of {element}, the schema {real['udt_name']}"
    nullable = real["is_nullable"] == "YES"
    if bool(column._meta.null) != nullable and not column._meta.primary_key:
        return f"{table}.{name}: declared null={column._meta.null}, the schema says {nullable}"
    if real["column_default"] == "now()" and not isinstance(column.default, DatabaseNow):
        return f"{table}.{name}: the schema stamps it with now(); declare default=DatabaseNow()"
    return None


async def test_every_table_has_exactly_one_table_class(database_url: str) -> None:
    counts = Counter(table._meta.tablename for table in declared_tables())
    real = await schema()
    assert sorted(set(real) - set(counts)) == [], "tables without a Piccolo Table class"
    assert sorted(set(counts) - set(real)) == [], "Table classes of no real table"
    assert [name for name, count in counts.items() if count > 1] == [], "declared twice"


async def test_each_table_class_declares_the_real_columns(database_url: str) -> None:
    real = await schema()
    problems = []
    for table in declared_tables():
        name = table._meta.tablename
        columns = real.get(name, {})
        declared = {column._meta.db_column_name for column in table._meta.columns}
        problems += [
            f"{name}.{col}: in the schema, not declared" for col in set(columns) - declared
        ]
        for column in table._meta.columns:
            problem = mismatch(name, column, columns.get(column._meta.db_column_name))
            if problem:
                problems.append(problem)
    assert problems == []
