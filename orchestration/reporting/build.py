"""Build the report from a warehouse connection, and write it atomically."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import charts as c
from . import queries as q
from .html import headline_markdown, render_page


@dataclass
class Report:
    """A built report: the page, the rows it shows, the charts drawn, and where it was
    written (None until it is)."""

    html: str
    data: q.ReportData
    charts: list[str]  # the charts drawn (the others had no data)
    path: Path | None = None

    @property
    def headline_markdown(self) -> str:
        return headline_markdown(self.data.headline)


def draw_charts(data: q.ReportData) -> dict[str, tuple[bytes, str] | None]:
    colors = c.channel_colors(r["channel"] for r in data.daily + data.weekly)
    pngs = {
        "daily": c.trend_chart(data.daily, "day", colors, data.anomaly_markers),
        "weekly": c.trend_chart(data.weekly, "week_start", colors),
        "distribution": c.histogram_chart(data.histogram, q.HISTOGRAM_BINS),
        "topics": c.topics_chart(data.topics),
    }
    return {name: (png, c.data_uri(png)) if png else None for name, png in pngs.items()}


def build_report(connection, source: str = "", generated_at: datetime | None = None) -> Report:
    """Read the marts through ``connection`` (DuckDB) and lay out the page."""
    data = q.read_report_data(connection)
    charts = draw_charts(data)
    page = render_page(data, charts, generated_at or datetime.now(UTC), source)
    return Report(html=page, data=data, charts=[name for name, drawn in charts.items() if drawn])


def write_atomically(path: Path, content: str) -> None:
    """Write ``content`` beside ``path`` under a temporary name, then rename it into place:
    a reader (or a browser reloading the page) sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_report(connection, path: Path, source: str = "") -> Report:
    report = build_report(connection, source=source)
    write_atomically(path, report.html)
    report.path = path
    return report
