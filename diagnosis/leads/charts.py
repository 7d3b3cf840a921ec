"""Charts drawn on the server as inline SVG, and readable durations.

No chart library and no JavaScript: a chart is a small `<svg role="img">` whose
`<title>` names it and whose `<desc>` says in words what it shows, followed by the
same numbers as a table. People who cannot see the picture, or would rather read
numbers, lose nothing, and the page still works offline.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

WIDTH = 480
VALUE_WIDTH = 120  # room right of the longest bar for its count and the spike note
ROW_GAP = 10
BAR_HEIGHT = 16
LINE_HEIGHT = 15  # of a label line, 12px text
LABEL_LINE_CHARS = 64  # a label wraps onto more lines rather than being cut
LINE_WIDTH = 960  # the line chart spans the page, so it is drawn wider
LINE_HEIGHT_PX = 260
MAX_TICKS = 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    detail: str = ""  # shown in the table, e.g. "40% (before: 10%)"
    highlight: bool = False  # a spike: the warning colour, and said in words beside the count


@dataclass(frozen=True)
class Series:
    """One line. Besides its colour (`css`) each line has its own dash pattern and point
    marker, so it can be told apart in greyscale or by people who do not see the colours."""

    name: str
    values: Sequence[int]
    css: str  # class of the line, coloured by the stylesheet
    dash: str = ""  # SVG stroke-dasharray; "" is a solid line
    marker: str = "circle"  # "circle" or "square"
    short_name: str = ""  # the label at the end of the line; the name when empty


@dataclass(frozen=True)
class Tick:
    index: int  # the point it marks
    text: str


def duration_text(value: timedelta | None) -> str:
    """A duration the way people say it: "45 min", "5 h 20 min", "3 d 4 h"."""
    if value is None:
        return "—"
    minutes = int(abs(value).total_seconds() // 60)
    if minutes < 1:
        return _("under a minute")
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    # Translators: short durations; d = days, h = hours, min = minutes.
    if days:
        return (
            _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
            if hours
            else _("%(days)d d") % {"days": days}
        )
    if hours:
        if minutes:
            return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": minutes}


def _nothing(title: str) -> SafeString:
    return format_html(
        '<p class="muted chart-empty">{}</p>', _("%(title)s: nothing in this period.") % {"title": title}
    )


def _as_a_table(title: str) -> str:
    # Translators: the summary of a folded table under a chart, e.g. "Causes found as a table".
    return _("%(title)s as a table") % {"title": title}


def wrap_label(label: str, width: int = LABEL_LINE_CHARS) -> list[str]:
    """The label on as many lines as it needs, broken between words; no part is dropped."""
    return textwrap.wrap(label, width, break_on_hyphens=False) or [""]


def nice_ticks(peak: int, most: int = MAX_TICKS) -> list[int]:
    """Between 4 and `most` evenly spaced whole numbers from 0 that reach `peak`, steps of 1, 2 or 5 × 10ⁿ.

    The smallest such step that needs at most `most` ticks is taken, so the ticks are as
    dense as allowed; small peaks still get 0–3 so the axis has some scale.
    """
    top = max(peak, 1)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            intervals = math.ceil(top / step)
            if intervals <= most - 1:
                intervals = max(intervals, 3)
                return [step * n for n in range(intervals + 1)]
        magnitude *= 10


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    heading: str = "",
    detail_heading: str = "",
    unit: str = "",
    unit_heading: str = "",
    limit: int = 10,
) -> SafeString:
    """Horizontal bars, largest first as given; beyond `limit` the rest are drawn as one "Other" bar.

    Each label is written in full above its bar, wrapped onto several lines when long,
    and is also the bar's hover text. The table below the chart lists every row, not
    just the drawn ones.
    """
    if not bars:
        return _nothing(title)
    unit_heading = unit_heading or (unit.capitalize() if unit else _("Cases"))
    # Translators: after a count of cases, e.g. "7 cases".
    unit = unit or _("cases")
    detail_heading = detail_heading or _("Share")
    jump = _("unusual jump")
    drawn = list(bars[:limit])
    if len(bars) > limit:
        rest = bars[limit:]
        drawn.append(Bar(_("Other (%(n)d more)") % {"n": len(rest)}, sum(b.value for b in rest)))
    top = max(max(b.value for b in drawn), 1)
    scale = (WIDTH - VALUE_WIDTH) / top
    rows = []
    y = 4
    for bar in drawn:
        lines = wrap_label(bar.label)
        label = format_html_join(
            "",
            '<tspan x="2" dy="{}">{}</tspan>',
            ((0 if n == 0 else LINE_HEIGHT, line) for n, line in enumerate(lines)),
        )
        bar_y = y + len(lines) * LINE_HEIGHT + 3
        width = max(bar.value * scale, 1.5) if bar.value else 0
        rows.append(
            format_html(
                '<g class="chart-row"><title>{}{}</title>'
                '<text class="chart-text chart-label" x="2" y="{}">{}</text>'
                '<rect class="{}" x="0" y="{}" width="{}" height="{}" rx="3"></rect>'
                '<text class="chart-text chart-value" x="{}" y="{}">{}{}</text></g>',
                _("%(label)s: %(value)s %(unit)s") % {"label": bar.label, "value": bar.value, "unit": unit},
                f" ({jump})" if bar.highlight else "",
                y + 11,
                label,
                "chart-bar chart-bar-spike" if bar.highlight else "chart-bar",
                bar_y,
                f"{width:.1f}",
                BAR_HEIGHT,
                f"{width + 6:.1f}",
                bar_y + BAR_HEIGHT - 4,
                bar.value,
                f" · {jump}" if bar.highlight else "",
            )
        )
        y = bar_y + BAR_HEIGHT + ROW_GAP
    leader = bars[0]
    summary = _("%(kinds)d kinds; the largest is %(label)s with %(value)s %(unit)s.") % {
        "kinds": len(bars),
        "label": leader.label,
        "value": leader.value,
        "unit": unit,
    }
    svg = format_html(
        '<svg class="chart" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="xMinYMin meet">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{summary}</desc>{rows}</svg>',
        id=chart_id,
        w=WIDTH,
        h=y - ROW_GAP + 4,
        title=title,
        summary=summary,
        rows=format_html_join("", "{}", ((row,) for row in rows)),
    )
    table_rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((b.label, b.value, b.detail) for b in bars)
    )
    table = format_html(
        '<details class="chart-table"><summary>{}</summary>'
        '<table class="table table-compact"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table></details>',
        _as_a_table(title),
        heading or title,
        unit_heading,
        detail_heading,
        table_rows,
    )
    return format_html('<figure class="chart-figure" id="{}">{}{}</figure>', chart_id, svg, table)


def _n(value: float) -> str:
    """A coordinate for SVG (format_html escapes its arguments, so they come as text)."""
    return f"{value:.1f}"


def _marker(kind: str, x: float, y: float, css: str) -> SafeString:
    if kind == "square":
        return format_html(
            '<rect class="chart-marker {}" x="{}" y="{}" width="7" height="7"></rect>',
            css,
            _n(x - 3.5),
            _n(y - 3.5),
        )
    return format_html('<circle class="chart-marker {}" cx="{}" cy="{}" r="3.5"></circle>', css, _n(x), _n(y))


def _swatch(series: Series) -> SafeString:
    """The legend's small picture of a line: its colour, dash pattern and marker."""
    return format_html(
        '<svg class="chart-swatch" viewBox="0 0 36 12" width="36" height="12" aria-hidden="true">'
        '<line class="chart-line {}" x1="1" y1="6" x2="35" y2="6"{}></line>{}</svg>',
        series.css,
        format_html(' stroke-dasharray="{}"', series.dash) if series.dash else "",
        _marker(series.marker, 18, 6, series.css),
    )


def _end_labels(ends: list[tuple[float, Series]], gap: float = 14) -> list[tuple[float, Series]]:
    """Direct labels beside the ends of the lines, pushed apart so they never overlap."""
    placed: list[tuple[float, Series]] = []
    for y, series in sorted(ends, key=lambda end: end[0]):
        if placed and y - placed[-1][0] < gap:
            y = placed[-1][0] + gap
        placed.append((y, series))
    return placed


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    ticks: Sequence[Tick] = (),
    label_heading: str = "",
) -> SafeString:
    """One line per series over the same points (days or weeks), with the totals in words.

    `labels` name each point in full (the table's first column); `ticks` are the points
    the x axis marks, the first and last when none are given. The y axis has a few round
    ticks with gridlines and says its unit; each line has its own dash and marker, is
    named at its end, and the legend shows both.
    """
    if not labels or not series:
        return _nothing(title)
    unit = unit or _("cases per day")
    label_heading = label_heading or _("Day")
    left, right, top_pad, bottom = 44, 130, 24, 28
    height = LINE_HEIGHT_PX
    plot_w, plot_h = LINE_WIDTH - left - right, height - top_pad - bottom
    peak = max((max(s.values) for s in series if s.values), default=0)
    y_ticks = nice_ticks(peak)
    scale_top = y_ticks[-1]
    step = plot_w / max(len(labels) - 1, 1)
    base = top_pad + plot_h

    def x_of(index: int) -> float:
        return left + index * step

    def y_of(value: int) -> float:
        return base - value / scale_top * plot_h

    grid = format_html_join(
        "",
        '<line class="{}" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text class="chart-text chart-tick" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                "chart-axis" if v == 0 else "chart-grid",
                left,
                _n(y_of(v)),
                left + plot_w,
                _n(y_of(v)),
                left - 6,
                _n(y_of(v) + 4),
                v,
            )
            for v in y_ticks
        ),
    )
    marks = list(ticks) or [Tick(0, labels[0]), Tick(len(labels) - 1, labels[-1])]
    x_axis = format_html_join(
        "",
        '<line class="chart-axis" x1="{x}" y1="{b}" x2="{x}" y2="{b5}"></line>'
        '<text class="chart-text chart-tick" x="{x}" y="{ty}" text-anchor="{anchor}">{text}</text>',
        (
            {
                "x": _n(x_of(t.index)),
                "b": base,
                "b5": base + 5,
                "ty": base + 18,
                "text": t.text,
                "anchor": "start" if len(labels) == 1 else "middle",
            }
            for t in marks
        ),
    )
    axes = format_html(
        '{}<line class="chart-axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"></line>{}'
        '<text class="chart-text chart-unit" x="{ux}" y="{uy}">{unit}</text>',
        grid,
        x_axis,
        l=left,
        t=top_pad,
        b=base,
        ux=left - 40,
        uy=top_pad - 10,
        unit=unit.capitalize(),
    )
    lines = []
    ends = []
    for s in series:
        points = [(x_of(i), y_of(v)) for i, v in enumerate(s.values)]
        lines.append(
            format_html(
                '<g class="chart-series"><title>{}</title>'
                '<polyline class="chart-line {}" fill="none" points="{}"{}></polyline>{}</g>',
                s.name,
                s.css,
                " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
                format_html(' stroke-dasharray="{}"', s.dash) if s.dash else "",
                format_html_join("", "{}", ((_marker(s.marker, x, y, s.css),) for x, y in points)),
            )
        )
        if points:
            ends.append((points[-1][1], s))
    end_labels = format_html_join(
        "",
        '<text class="chart-text chart-end-label" x="{}" y="{}">{}</text>',
        ((left + plot_w + 10, _n(y + 4), s.short_name or s.name) for y, s in _end_labels(ends)),
    )
    totals = pgettext("list separator", "; ").join(
        _("%(name)s: %(total)d") % {"name": s.name, "total": sum(s.values)} for s in series
    )
    # Translators: the words a screen reader says for the line chart, e.g.
    # "From 1 Nov to 3 Nov, cases per day. Opened: 5; Outcomes reached: 2."
    summary = _("From %(first)s to %(last)s, %(unit)s. %(totals)s.") % {
        "first": labels[0],
        "last": labels[-1],
        "unit": unit,
        "totals": totals,
    }
    svg = format_html(
        '<svg class="chart" role="img" aria-labelledby="{id}-title {id}-desc" aria-describedby="{id}-data" '
        'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{summary}</desc>'
        "{axes}{lines}{ends}</svg>",
        id=chart_id,
        w=LINE_WIDTH,
        h=height,
        title=title,
        summary=summary,
        axes=axes,
        lines=format_html_join("", "{}", ((line,) for line in lines)),
        ends=end_labels,
    )
    legend = format_html_join(
        "",
        "<li>{}{}</li>",
        ((_swatch(s), s.name) for s in series),
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
        '<details class="chart-table"><summary>{}</summary><table class="table table-compact" '
        'id="{}-data"><thead><tr><th scope="col">{}</th>{}</tr></thead><tbody>{}</tbody></table></details>',
        _as_a_table(title),
        chart_id,
        label_heading,
        head,
        body,
    )
    return format_html(
        '<figure class="chart-figure" id="{}">{}<ul class="chart-legend" aria-label="{}">{}</ul>{}</figure>',
        chart_id,
        svg,
        _("Legend"),
        legend,
        table,
    )
