"""The ``sentiment_report`` asset: one self-contained HTML page read from the marts."""

import dagster as dg

from ..partitions import WAREHOUSE_POOL
from ..reporting import ReportResource, write_report
from ..reporting.queries import REPORT_MARTS
from ..resources import WarehouseResource

REPORT_DEPS = [dg.AssetKey(["marts", name]) for name in REPORT_MARTS]


@dg.asset(
    deps=REPORT_DEPS,
    pool=WAREHOUSE_POOL,
    group_name="report",
    kinds={"html", "duckdb"},
)
def sentiment_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, report: ReportResource
) -> dg.MaterializeResult:
    """A report people look at: one HTML file that opens offline in any browser.

    It shows the headline numbers (messages, scored share, mean score, negative share of the
    last 7 days against the 7 before, anomalies and shifts), the daily and weekly trend per
    channel (mean score and negative share, anomalous days marked), the distribution of
    message scores, the topics ranked by negative mentions, the 20 most negative
    conversations with their customer, channel and first-to-last change, and the latest
    anomalies and shifts.

    The file is written beside the warehouse (``<warehouse name>_report.html``, so
    ``warehouse/sentiment_report.html`` by default; the ``report`` resource's ``path`` or
    ``$SENTIMENT_REPORT_PATH`` move it), under a temporary name and renamed into place. The
    charts are PNG images embedded in the page, which has no script and whose
    Content-Security-Policy forbids every network load. A mart not built yet leaves its
    section with a "no data" note.
    """
    database = warehouse.database_path()
    path = report.report_path(database)
    with warehouse.connect() as connection:
        written = write_report(connection, path, source=database.name)
    missing = sorted(set(REPORT_MARTS) - written.data.available)
    if missing:
        context.log.warning(f"marts not built yet, their sections say so: {', '.join(missing)}")
    context.log.info(f"wrote {path} ({len(written.html) / 1e6:.1f} MB)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "open": dg.MetadataValue.url(path.as_uri()),
            "headline": dg.MetadataValue.md(written.headline_markdown),
            "charts": dg.MetadataValue.text(", ".join(written.charts) or "none"),
            "missing_marts": dg.MetadataValue.text(", ".join(missing) or "none"),
            "bytes": len(written.html.encode()),
        }
    )
