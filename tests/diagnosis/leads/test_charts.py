"""The dashboard's charts read on their own: full labels, round ticks with units, lines told apart
without colour, and countries by name."""

from __future__ import annotations

import re

import pytest

from diagnosis.leads import charts, countries

LONG = (
    "E_persistent_after_phone_checks · Still missing after every phone check, "
    "including a restart, another handset and a second SIM card"
)


def test_a_long_bar_label_is_written_in_full_over_several_lines() -> None:
    html = charts.bar_chart("c", "Causes", [charts.Bar(LONG, 7), charts.Bar("Short", 2)])

    label = re.search(r'<text class="chart-text chart-label"[^>]*>(.*?)</text>', html)
    assert label is not None
    lines = re.findall(r"<tspan[^>]*>(.*?)</tspan>", label.group(1))
    assert len(lines) >= 2  # wrapped, not cut
    assert " ".join(lines) == LONG
    assert "…" not in html
    assert f"<title>{LONG}: 7 cases</title>" in html  # the hover text
    assert f"<td>{LONG}</td>" in html  # and the table


def test_wrapping_keeps_every_word_and_breaks_only_overlong_ones() -> None:
    assert charts.wrap_label("Short") == ["Short"]
    lines = charts.wrap_label(LONG, 30)
    assert all(len(line) <= 30 for line in lines)
    assert "".join(lines).replace(" ", "") == LONG.replace(" ", "")  # nothing dropped
    assert "".join(charts.wrap_label("x" * 70, 30)) == "x" * 70


def test_a_spike_bar_says_so_in_words_not_only_in_colour() -> None:
    html = charts.bar_chart("c", "T", [charts.Bar("A", 5, highlight=True), charts.Bar("B", 3)])

    assert html.count("chart-bar-spike") == 1
    assert html.count("unusual jump") == 2  # beside the count, and in the hover text


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        (0, [0, 1, 2, 3]),
        (1, [0, 1, 2, 3]),
        (4, [0, 1, 2, 3, 4]),
        (5, [0, 1, 2, 3, 4, 5]),
        (7, [0, 2, 4, 6, 8]),
        (12, [0, 5, 10, 15]),
        (35, [0, 10, 20, 30, 40]),
        (41, [0, 10, 20, 30, 40, 50]),
        (980, [0, 200, 400, 600, 800, 1000]),
    ],
)
def test_y_ticks_are_round_numbers(peak: int, ticks: list[int]) -> None:
    assert charts.nice_ticks(peak) == ticks


@pytest.mark.parametrize("peak", range(0, 2500, 7))
def test_there_are_four_to_six_ticks_reaching_the_peak(peak: int) -> None:
    ticks = charts.nice_ticks(peak)
    step = ticks[1]
    assert 4 <= len(ticks) <= 6 and ticks[-1] >= peak and ticks[0] == 0
    assert all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False))
    assert int(str(step)[0]) in (1, 2, 5) and set(str(step)[1:]) <= {"0"}


def _line() -> str:
    return charts.line_chart(
        "daily",
        "Per week",
        ["1–7 Sep", "8–14 Sep", "15–21 Sep", "22–28 Sep"],
        [
            charts.Series("Cases opened", [3, 12, 7, 0], "a", short_name="Opened"),
            charts.Series("Outcomes reached", [1, 4, 9, 2], "b", dash="7 5", marker="square"),
        ],
        unit="cases per week",
        ticks=[charts.Tick(0, "1 Sep"), charts.Tick(2, "15 Sep")],
        label_heading="Week",
    )


def test_line_chart_axes_have_round_ticks_gridlines_dates_and_the_unit() -> None:
    html = _line()

    y_tick = r'<text class="chart-text chart-tick" x="[\d.]+" y="[\d.]+" text-anchor="end">(\d+)</text>'
    y_ticks = re.findall(y_tick, html)
    assert y_ticks == ["0", "5", "10", "15"]
    assert html.count('class="chart-grid"') == 3  # one per tick above the axis
    assert ">1 Sep</text>" in html and ">15 Sep</text>" in html and ">8 Sep</text>" not in html
    assert ">Cases per week</text>" in html
    assert "From 1–7 Sep to 22–28 Sep, cases per week." in html
    assert '<th scope="col">Week</th>' in html
    assert 'aria-describedby="daily-data"' in html and 'id="daily-data"' in html


def test_each_line_differs_by_more_than_colour() -> None:
    html = _line()

    series = re.findall(r'<g class="chart-series">.*?</g>', html)
    assert len(series) == 2
    assert "stroke-dasharray" not in series[0] and 'stroke-dasharray="7 5"' in series[1]
    assert series[0].count("<circle") == 4 and series[1].count("<rect") == 4  # a marker on every point
    # Named where they end, and the legend shows each line's dash and marker next to its name.
    assert ">Opened</text>" in html and ">Outcomes reached</text>" in html
    legend = html.split('<ul class="chart-legend"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", legend)
    assert "<circle" in items[0] and items[0].endswith("Cases opened")
    assert "<rect" in items[1] and 'stroke-dasharray="7 5"' in items[1]
    assert items[1].endswith("Outcomes reached")


def test_end_labels_of_lines_ending_together_do_not_overlap() -> None:
    html = charts.line_chart(
        "c",
        "T",
        ["a", "b"],
        [charts.Series("One", [1, 5], "a"), charts.Series("Two", [2, 5], "b", marker="square")],
    )

    ys = [float(y) for y in re.findall(r'class="chart-text chart-end-label" x="[\d.]+" y="([\d.]+)"', html)]
    assert len(ys) == 2 and abs(ys[0] - ys[1]) >= 14


@pytest.mark.parametrize(
    ("region", "label"),
    [
        ("DE", "Germany (DE, +49)"),
        ("GB", "United Kingdom (GB, +44)"),
        ("CI", "Côte d’Ivoire (CI, +225)"),
        ("", "Unknown"),
        ("ZZ", "ZZ"),  # not a region: shown as it came
    ],
)
def test_countries_are_named(region: str, label: str) -> None:
    assert countries.country_label(region) == label


def test_every_region_phone_numbers_know_has_a_name() -> None:
    import phonenumbers

    missing = [r for r in phonenumbers.SUPPORTED_REGIONS if countries.country_name(r) == r]
    assert missing == []
