"""Static SVG charts for the daily page: drawn here in Python, no JavaScript, no fonts fetched.

Each function returns one `<svg role="img">` whose `<title>` and `<desc>` are its accessible
name and text alternative. Coordinates are rounded to one decimal and nothing random or
time-dependent goes in, so the same numbers give the same bytes. Colours are the Okabe-Ito
palette (categorical) and viridis (sequential), both readable with colour-vision deficiencies;
lines also differ by dash pattern, so no series is told apart by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

NO_CATEGORY_COLOUR = "#999"
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000")
VIRIDIS = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)  # fmt: skip
DASHES = ("", "6 3", "2 3")
WIDTH = 760
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_max(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) at
    or above `value`; 1 for nothing. Quarters of it label the axis."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    steps = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    return next(m * power for m in steps if m * power >= value)


def _svg(key: str, width: float, height: float, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'aria-labelledby="{key}-title {key}-desc" {FONT}>'
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def line_chart(
    key: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
) -> str:
    """Lines over dates (one label per date, some shown) on a shared axis from 0; a legend."""
    left, right, top, bottom, height = 56, 12, 28, 36, 280
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    top_value = nice_max(max((v for _, values in series for v in values), default=0))
    body = []
    for i in range(5):  # horizontal grid and y labels
        y = top + plot_h - plot_h * i / 4
        body.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{_n(y)}" y2="{_n(y)}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{_n(y + 4)}" text-anchor="end">'
            f"{top_value * i / 4:,.0f}</text>"
        )
    count = len(labels)
    step = plot_w / max(count - 1, 1)
    for i in range(0, count, max(count // 6, 1)):  # x labels
        x = left + i * step
        body.append(
            f'<text x="{_n(x)}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
    for j, (name, values) in enumerate(series):
        colour, dash = OKABE_ITO[j % len(OKABE_ITO)], DASHES[j % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        points = " ".join(
            f"{_n(left + i * step)},{_n(top + plot_h - plot_h * v / top_value)}"
            for i, v in enumerate(values)
        )
        body.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2"'
            f'{dash_attr} points="{points}"/>'
            f'<line x1="{left + j * 170}" x2="{left + j * 170 + 24}" y1="10" y2="10" '
            f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
            f'<text x="{left + j * 170 + 30}" y="14">{escape(name)}</text>'
        )
    return _svg(key, WIDTH, height, title, desc, body)


def heatmap(
    key: str,
    title: str,
    desc: str,
    rows: Sequence[str],
    columns: int,
    cells: Sequence[tuple[int, int, float, str]],
) -> str:
    """Rows x columns of cells (row index, column index, value 0..1, tooltip), viridis-coloured.

    The colour scale runs from 0 to the 95th percentile of the values rounded up to a tenth
    (higher values take its top colour), so a few outliers do not paint every low rate one
    colour; the scale's labels say where it ends.
    """
    values = sorted(v for *_, v, _ in cells)
    high = values[int(0.95 * (len(values) - 1))] if values else 1
    top_value = min(math.ceil(high * 10) / 10, 1) or 0.1
    left, top, legend_h = 80, 24, 34
    cell = max(min((WIDTH - left - 8) / max(columns, 1), 18), 4)
    height = top + cell * len(rows) + legend_h
    body = [
        f'<text x="{left}" y="{top - 8}">weeks since enrolment: 0 to {columns - 1}</text>',
    ]
    label_every = max(math.ceil(12 / cell), 1)
    for r, label in enumerate(rows):
        if r % label_every == 0:
            y = top + r * cell + cell / 2 + 4
            body.append(
                f'<text x="{left - 6}" y="{_n(y)}" text-anchor="end">{escape(label)}</text>'
            )
    for r, c, value, tooltip in cells:
        colour = VIRIDIS[min(int(value / top_value * len(VIRIDIS)), len(VIRIDIS) - 1)]
        body.append(
            f'<rect class="cell" x="{_n(left + c * cell)}" y="{_n(top + r * cell)}" '
            f'width="{_n(cell)}" height="{_n(cell)}" fill="{colour}">'
            f"<title>{escape(tooltip)}</title></rect>"
        )
    y = top + cell * len(rows) + 10
    for i, colour in enumerate(VIRIDIS):  # the colour scale, labelled at its ends
        body.append(
            f'<rect x="{left + i * 24}" y="{_n(y)}" width="24" height="10" fill="{colour}"/>'
        )
    body.append(
        f'<text x="{left}" y="{_n(y + 22)}">0%</text>'
        f'<text x="{left + 24 * len(VIRIDIS)}" y="{_n(y + 22)}" text-anchor="end">'
        f"{top_value * 100:.0f}%{'' if top_value == 1 else ' or more'} retained</text>"
    )
    return _svg(key, WIDTH, height, title, desc, body)


def bar_chart(
    key: str,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, float | None, str, str]],
) -> str:
    """Horizontal bars 0..1 (label, value or None, value text, colour), one per row."""
    left, right, top, row = 300, 60, 8, 18
    plot_w = WIDTH - left - right
    height = top * 2 + row * len(bars)
    body = [
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - top}" stroke="#999"/>',
    ]
    for i, (label, value, text, colour) in enumerate(bars):
        y = top + i * row
        body.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        width = plot_w * (value or 0)
        if value is not None:
            body.append(
                f'<rect class="bar" x="{left}" y="{y + 3}" width="{_n(width)}" height="{row - 6}" '
                f'fill="{colour}"/>'
            )
        body.append(f'<text x="{_n(left + width + 4)}" y="{y + 13}">{escape(text)}</text>')
    return _svg(key, WIDTH, height, title, desc, body)
