"""Where the report goes: a resource field, else an environment variable, else beside the
warehouse."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from ..resources import setting


def default_report_path(warehouse: Path) -> Path:
    """``<warehouse dir>/<warehouse name>_report.html``: warehouse/sentiment.duckdb gives
    warehouse/sentiment_report.html."""
    return warehouse.with_name(f"{warehouse.stem}_report.html")


class ReportResource(dg.ConfigurableResource):
    """The sentiment report's HTML file."""

    path: str = Field(
        default="",
        description="HTML file the sentiment_report asset writes. Empty: "
        "$SENTIMENT_REPORT_PATH, else <warehouse name>_report.html beside the warehouse "
        "(warehouse/sentiment_report.html by default).",
    )

    def report_path(self, warehouse: Path) -> Path:
        configured = setting(self.path, "SENTIMENT_REPORT_PATH", "")
        return Path(configured).resolve() if configured else default_report_path(warehouse)
