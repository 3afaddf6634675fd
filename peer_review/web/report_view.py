"""A report as an HTML document with its plots drawn on the server (matplotlib to inline SVG: no scripts), for the
reports page, `peer-review report --format html` and the national panel's pack."""

from __future__ import annotations

import io
import re
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from peer_review.records.reports import PanelRecommendation, Report

COLOURS = ("#1f5fa8", "#c0392b", "#e08a2e", "#00703c", "#6f4e9c", "#9aa5b1")
# matplotlib's SVG carries a <style> element and style attributes, which the pages' Content-Security-Policy refuses
# (a refused `style="fill: #ffffff"` leaves a shape black): the element is dropped, and each attribute becomes the
# presentation attributes it sets (fill, stroke, opacity, ...), which no policy blocks.
STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')
PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def _presentation_attributes(found: re.Match[str]) -> str:
    pairs = (part.split(":", 1) for part in found.group(1).split(";") if ":" in part)
    return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    return STYLE_ATTRIBUTE.sub(_presentation_attributes, STYLE.sub("", PROLOGUE.sub("", buffer.getvalue())))


def _bars(title: str, groups: list[str], series: dict[str, list[float]], ylabel: str) -> str:
    figure, axes = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(len(series), 1)
    for offset, (label, heights) in enumerate(series.items()):
        positions = [i + (offset - (len(series) - 1) / 2) * width for i in range(len(groups))]
        axes.bar(positions, heights, width, label=label, color=COLOURS[offset % len(COLOURS)])
    axes.set_xticks(range(len(groups)), groups, fontsize=8, rotation=20 if len(groups) > 6 else 0)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    if len(series) > 1:
        axes.legend(fontsize=8)
    return _svg(figure)


def plots(report: Report) -> dict[str, str]:
    """The report's plots as SVG, by section (only the sections with figures)."""
    drawn: dict[str, str] = {}
    if report.reviews:
        groups = [row.group for row in report.reviews]
        series = {
            "referred": [float(row.referred) for row in report.reviews],
            "closed": [float(row.closed) for row in report.reviews],
        }
        drawn["reviews"] = _bars(f"Reviews by {report.by.value}", groups, series, "reviews")
    if report.time_in_status:
        groups = [row.status.replace("_", " ") for row in report.time_in_status]
        series = {
            "median": [row.median_days for row in report.time_in_status],
            "90th percentile": [row.p90_days for row in report.time_in_status],
        }
        drawn["time_in_status"] = _bars("Time in each status", groups, series, "days (calendar)")
    if report.themes:
        months = sorted({row.month for row in report.themes})
        counts: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(months))
        for row in report.themes:
            counts[row.theme][months.index(row.month)] = float(row.count)
        drawn["themes"] = _bars("Recommendations by theme and month", months, dict(counts), "recommendations")
    return drawn


def report_document(report: Report, panel: list[PanelRecommendation] | None = None) -> str:
    """The whole report as one HTML document (the panel pack when `panel` is given)."""
    from peer_review.web.render import templates

    template = templates.env.get_template("report_document.html")
    return template.render(report=report, plots=plots(report), panel=panel)


SECTIONS = ("reviews", "time_in_status", "stages_not_followed", "recommendations", "themes")


def report_csv(report: Report) -> str:
    """Every section as rows of one CSV: the section's name, then its columns (a header row per section)."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["period", report.start.isoformat(), report.end.isoformat(), "by", report.by.value])
    for section in SECTIONS:
        rows = [row.model_dump(mode="json") for row in getattr(report, section)]
        if rows:
            writer.writerow(["section", section, *rows[0]])
            writer.writerows([section, "", *row.values()] for row in rows)
    if report.median_days_to_implementation is not None:
        writer.writerow(["median_days_to_implementation", report.median_days_to_implementation])
    return buffer.getvalue()
