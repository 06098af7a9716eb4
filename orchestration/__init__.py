"""Customer sentiment warehouse: the Dagster code location."""
