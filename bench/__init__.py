"""Benchmark: ``python -m bench`` measures the loader and dbt against DuckDB's readers and dlt."""
