"""Charts drawn on the server as inline SVG, and readable durations.

No chart library and no JavaScript: a chart is a small `<svg role="img">` whose
`<title>` names it and whose `<desc>` says in words what it shows, followed by the
same numbers as a table. People who cannot see the picture, or would rather read
numbers, lose nothing, and the page still works offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 480
LABEL_WIDTH = 180
VALUE_WIDTH = 50
ROW_HEIGHT = 26
BAR_HEIGHT = 18
LABEL_CHARS = 24
LINE_WIDTH = 960  # the line chart spans the page, so it is drawn wider


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    detail: str = ""  # shown in the table, e.g. "40% (before: 10%)"
    highlight: bool = False  # drawn in the warning colour (a spike)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    css: str  # class of the line, coloured by the stylesheet


def duration_text(value: timedelta | None) -> str:
    """A duration the way people say it: "45 min", "5 h 20 min", "3 d 4 h"."""
    if value is None:
        return "—"
    minutes = int(abs(value).total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    heading: str = "",
    detail_heading: str = "Share",
    unit: str = "cases",
    limit: int = 10,
) -> SafeString:
    """Horizontal bars, largest first as given; beyond `limit` the rest are drawn as one "Other" bar.

    The table below the chart lists every row, not just the drawn ones.
    """
    if not bars:
        return format_html('<p class="muted chart-empty">{}: nothing in this period.</p>', title)
    drawn = list(bars[:limit])
    if len(bars) > limit:
        rest = bars[limit:]
        drawn.append(Bar(f"Other ({len(rest)} more)", sum(b.value for b in rest)))
    top = max(max(b.value for b in drawn), 1)
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / top
    height = len(drawn) * ROW_HEIGHT + 4
    rows = []
    for index, bar in enumerate(drawn):
        y = index * ROW_HEIGHT + 4
        width = max(bar.value * scale, 1.5) if bar.value else 0
        rows.append(
            format_html(
                '<g class="chart-row"><title>{}: {} {}</title>'
                '<text class="chart-text" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}" rx="3"></rect>'
                '<text class="chart-text chart-value" x="{}" y="{}">{}</text></g>',
                bar.label,
                bar.value,
                unit,
                LABEL_WIDTH - 8,
                y + BAR_HEIGHT - 5,
                _short(bar.label),
                "chart-bar chart-bar-spike" if bar.highlight else "chart-bar",
                LABEL_WIDTH,
                y,
                f"{width:.1f}",
                BAR_HEIGHT,
                f"{LABEL_WIDTH + width + 6:.1f}",
                y + BAR_HEIGHT - 5,
                bar.value,
            )
        )
    leader = bars[0]
    summary = f"{len(bars)} kinds; the largest is {leader.label} with {leader.value} {unit}."
    svg = format_html(
        '<svg class="chart" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="xMinYMin meet">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{summary}</desc>{rows}</svg>',
        id=chart_id,
        w=WIDTH,
        h=height,
        title=title,
        summary=summary,
        rows=format_html_join("", "{}", ((row,) for row in rows)),
    )
    table_rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((b.label, b.value, b.detail) for b in bars)
    )
    table = format_html(
        '<details class="chart-table"><summary>{} as a table</summary>'
        '<table class="table table-compact"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table></details>',
        title,
        heading or title,
        unit.capitalize(),
        detail_heading,
        table_rows,
    )
    return format_html('<figure class="chart-figure" id="{}">{}{}</figure>', chart_id, svg, table)


def line_chart(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """One line per series over the same labelled points (days), with the totals in words."""
    if not labels or not series:
        return format_html('<p class="muted chart-empty">{}: nothing in this period.</p>', title)
    left, right, top_pad, bottom = 36, 10, 10, 24
    height = 220
    plot_w, plot_h = LINE_WIDTH - left - right, height - top_pad - bottom
    peak = max(max((max(s.values) for s in series if s.values), default=0), 1)
    step = plot_w / max(len(labels) - 1, 1)

    def point(index: int, value: int) -> str:
        return f"{left + index * step:.1f},{top_pad + plot_h - value / peak * plot_h:.1f}"

    lines = format_html_join(
        "",
        '<polyline class="chart-line {}" fill="none" points="{}"><title>{}</title></polyline>',
        ((s.css, " ".join(point(i, v) for i, v in enumerate(s.values)), s.name) for s in series),
    )
    axes = format_html(
        '<line class="chart-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"></line>'
        '<line class="chart-axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"></line>'
        '<text class="chart-text" x="{lx}" y="{ty}" text-anchor="end">{peak}</text>'
        '<text class="chart-text" x="{lx}" y="{b}" text-anchor="end">0</text>'
        '<text class="chart-text" x="{l}" y="{xy}">{first}</text>'
        '<text class="chart-text" x="{r}" y="{xy}" text-anchor="end">{last}</text>',
        l=left,
        r=LINE_WIDTH - right,
        t=top_pad,
        b=top_pad + plot_h,
        lx=left - 6,
        ty=top_pad + 10,
        xy=height - 6,
        peak=peak,
        first=labels[0],
        last=labels[-1],
    )
    totals = "; ".join(f"{s.name}: {sum(s.values)}" for s in series)
    summary = f"From {labels[0]} to {labels[-1]}. {totals}."
    svg = format_html(
        '<svg class="chart" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="xMinYMin meet">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{summary}</desc>{axes}{lines}</svg>',
        id=chart_id,
        w=LINE_WIDTH,
        h=height,
        title=title,
        summary=summary,
        axes=axes,
        lines=lines,
    )
    legend = format_html_join(
        "",
        '<li><span class="chart-swatch {}" aria-hidden="true"></span>{}</li>',
        ((s.css, s.name) for s in series),
    )
    head = format_html_join("", '<th scope="col">{}</th>', ((s.name,) for s in series))
    body = format_html_join(
        "",
        "<tr><th scope='row'>{}</th>{}</tr>",
        (
            (label, format_html_join("", "<td>{}</td>", ((s.values[i],) for s in series)))
            for i, label in enumerate(labels)
        ),
    )
    table = format_html(
        '<details class="chart-table"><summary>{} as a table</summary><table class="table table-compact">'
        '<thead><tr><th scope="col">Day</th>{}</tr></thead><tbody>{}</tbody></table></details>',
        title,
        head,
        body,
    )
    return format_html(
        '<figure class="chart-figure" id="{}">{}<ul class="chart-legend">{}</ul>{}</figure>',
        chart_id,
        svg,
        legend,
        table,
    )
