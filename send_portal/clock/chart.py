"""Server-drawn SVG bar charts for the clock page: no scripts, inline in the
page with role="img", a <title> and a <desc>. The page shows the same figures
in a table, which is what screen readers are pointed to (the SVG's shapes are
hidden from them; its name and description say where the table is).

Built from escaped text and numbers only."""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 44
BAR_COLOUR = "#1d70b8"  # GOV.UK blue: 4.5:1 and more against white
TEXT_COLOUR = "#0b0c0c"


def _nice_top(largest: int) -> int:
    """The axis top: the smallest 1, 2 or 5 times a power of ten at least `largest`."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= largest:
                return step * scale
        scale *= 10


def bar_chart(chart_id: str, title: str, description: str, bars: list[tuple[str, int]], axis_label: str) -> Markup:
    """A vertical bar chart of (label, value) pairs."""
    top = _nice_top(max((v for _l, v in bars), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    bar_w = max(slot * 0.7, 1)
    cid = escape(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" id="{cid}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{cid}-title {cid}-desc" focusable="false">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
        f'<g aria-hidden="true" font-family="arial, sans-serif" font-size="12" fill="{TEXT_COLOUR}">',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="{TEXT_COLOUR}"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{TEXT_COLOUR}"/>',
    ]
    for tick in (0, top // 2 if top > 1 else None, top):
        if tick is None:
            continue
        y = TOP + plot_h - plot_h * tick / top
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:,}</text>')
        parts.append(f'<line x1="{LEFT - 3}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="{TEXT_COLOUR}"/>')
    every = 1 if len(bars) <= 13 else 2
    for i, (label, value) in enumerate(bars):
        h = plot_h * value / top
        x = LEFT + i * slot + (slot - bar_w) / 2
        parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{BAR_COLOUR}"/>')
        if value:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h - h - 3:.1f}" text-anchor="middle" font-size="10">{value:,}</text>')
        if i % every == 0 or i == len(bars) - 1:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(axis_label)}</text>')
    parts.append("</g></svg>")
    return Markup("".join(parts))  # nosec B704 - every value escaped or numeric
