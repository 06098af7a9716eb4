"""The sentiment report: one self-contained HTML file read from the marts.

``queries`` reads the marts, ``charts`` draws the figures (matplotlib, Agg backend, PNGs
embedded as data URIs), ``html`` lays out the page, and ``build`` puts them together and
writes the file atomically. The page loads nothing from anywhere: no scripts, no fonts, no
stylesheets, and a Content-Security-Policy that forbids any network load.
"""

from .build import Report, build_report, write_report
from .resource import ReportResource

__all__ = ["Report", "ReportResource", "build_report", "write_report"]
