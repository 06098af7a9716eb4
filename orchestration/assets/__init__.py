"""Dagster assets: ingest, scoring, and the dbt models."""
