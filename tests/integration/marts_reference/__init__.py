"""An independent reference for every dbt mart, computed with polars and plain Python.

Written from the mart definitions (dbt_project/README.md and each model's .yml), not from the
SQL: the raw zone is read with polars, current versions are picked by sorting, levels and scores
are computed with Python loops. tests/integration/test_marts_reference.py compares every mart
with it row for row.
"""
