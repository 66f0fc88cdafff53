"""Charts for the report pages, drawn on the server as inline SVG: nothing is loaded from
another host and no script runs. Each chart scales to its box (a phone's width included)
and is an image with its own title; the table under it carries the same figures.

Every label is escaped here (``markupsafe.escape``), so the SVG is safe to insert as is.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
SERIES_COLOURS = ("#1769b0", "#3aa55d")  # --accent-dark and --ok of okno.css
TEXT = "#1d2733"
MUTED = "#5b6673"


def _svg(width: int, height: int, title: str, body: str) -> Markup:
    # Safe: every text in the parts was escaped where it was put in; the rest are numbers.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img"'
        f' preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def columns(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]
) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series, with a legend."""
    width, height, left, bottom, top = 640, 240, 36, 40, 28
    peak = max((v for _, values in series for v in values), default=0) or 1
    slot = (width - left) / max(len(labels), 1)
    bar = max(slot * 0.8 / max(len(series), 1), 1)
    scale = (height - bottom - top) / peak
    parts = [
        f'<text x="0" y="{top + 4}" font-size="11" fill="{MUTED}">{_number(peak)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}"'
        f' stroke="{MUTED}" stroke-width="1"/>',
    ]
    for n, (name, colour) in enumerate(zip((s[0] for s in series), SERIES_COLOURS, strict=False)):
        x = left + n * 150
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 16}" y="14" font-size="12" fill="{TEXT}">{escape(name)}</text>'
        )
    every = max(1, len(labels) // 12)  # at most a dozen labels under the axis
    for i, label in enumerate(labels):
        x0 = left + i * slot + slot * 0.1
        for n, (_, values) in enumerate(series):
            value = values[i]
            h = value * scale
            parts.append(
                f'<rect x="{x0 + n * bar:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}"'
                f' height="{h:.1f}" fill="{SERIES_COLOURS[n % 2]}"><title>{escape(label)}:'
                f" {_number(value)}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x0:.1f}" y="{height - bottom + 16}" font-size="11"'
                f' fill="{TEXT}">{escape(label)}</text>'
            )
    return _svg(width, height, title, "".join(parts))


def bars(title: str, rows: Sequence[tuple[str, float]], unit: str = "") -> Markup:
    """Horizontal bars, one per row, the value written at its end."""
    width, row_height, left = 640, 26, 170
    height = row_height * max(len(rows), 1) + 8
    peak = max((v for _, v in rows), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_height
        w = (width - left - 90) * value / peak
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="12" fill="{TEXT}">{escape(label[:26])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_height - 8}"'
            f' fill="{SERIES_COLOURS[0]}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 16}" font-size="12" fill="{TEXT}">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    return _svg(width, height, title, "".join(parts))


def heat_map(title: str, grid: Sequence[Sequence[int]]) -> Markup:
    """Weekday × hour: the darker the cell, the more; each cell names its count."""
    cell, left, top = 24, 28, 18
    width, height = left + 24 * cell, top + 7 * cell
    peak = max((v for row in grid for v in row), default=0) or 1
    parts = [
        f'<text x="{left + hour * cell + 2}" y="12" font-size="10" fill="{MUTED}">{hour}</text>'
        for hour in range(0, 24, 3)
    ]
    for day, row in enumerate(grid):
        y = top + day * cell
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="11" fill="{TEXT}">{WEEKDAYS[day]}</text>'
        )
        for hour, value in enumerate(row):
            share = value / peak
            parts.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}"'
                f' rx="3" fill="#1769b0" fill-opacity="{0.06 + 0.94 * share:.2f}">'
                f"<title>{WEEKDAYS[day]} {hour}:00 — {value}</title></rect>"
            )
    return _svg(width, height, title, "".join(parts))


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
