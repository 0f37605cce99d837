"""Quoting for the few SQL strings the loader has to build (names and values DuckDB cannot bind)."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """A SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A SQL string literal in single quotes."""
    return "'" + value.replace("'", "''") + "'"
