"""console_search: the numbers and sending-time windows for the console's Send Details search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from diagnosis.cases.console_search import HISTORY, Window, console_number, plan, split

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_numbers_keep_their_country_code_without_plus_except_mainland_china() -> None:
    assert console_number("+4915123456789") == "4915123456789"
    assert console_number("+8613800138000") == "13800138000"
    assert console_number("+85291234567") == "85291234567"  # Hong Kong is searched internationally


def test_a_range_of_exactly_seven_days_is_one_search() -> None:
    start = NOW - 7 * DAY
    assert split(start, NOW) == [Window(start, NOW)]


def test_a_minute_more_than_seven_days_needs_a_second_search() -> None:
    start = NOW - 7 * DAY - timedelta(minutes=1)
    assert split(start, NOW) == [Window(start, start + 7 * DAY), Window(start + 7 * DAY, NOW)]
    assert split(NOW, NOW) == []


def test_a_known_send_time_is_covered_from_a_day_before_to_three_days_after() -> None:
    sent = NOW - 10 * DAY + timedelta(seconds=30)
    search = plan(["+4915123456789"], sent, NOW - 9 * DAY, NOW)

    anchor = NOW - 10 * DAY + timedelta(minutes=1)  # rounded up to a whole minute
    assert search.windows == (Window(anchor - DAY, anchor + 3 * DAY),)
    assert [n.console for n in search.numbers] == ["4915123456789"]
    assert not search.estimated and not search.too_old and not search.clipped


def test_a_recent_send_is_searched_up_to_now_only() -> None:
    search = plan(["+4915123456789"], NOW - timedelta(hours=2), NOW, NOW)
    assert search.windows == (Window(NOW - timedelta(hours=2) - DAY, NOW),)


def test_an_unknown_send_time_covers_the_week_before_the_case_was_opened() -> None:
    opened = NOW - 2 * DAY
    search = plan(["+4915123456789"], None, opened, NOW)
    assert search.windows == (Window(opened - 7 * DAY, opened),)
    assert search.estimated and not search.too_old


def test_a_range_crossing_the_ninety_day_limit_starts_at_the_limit() -> None:
    sent = NOW - HISTORY + timedelta(hours=12)
    search = plan(["+4915123456789"], sent, sent, NOW)
    assert search.windows == (Window(NOW - HISTORY, sent + 3 * DAY),)
    assert search.clipped and not search.too_old


def test_a_send_older_than_ninety_days_is_flagged_with_what_is_left_to_search() -> None:
    sent = NOW - HISTORY - DAY
    search = plan(["+4915123456789"], sent, sent, NOW)
    assert search.too_old
    assert search.windows == (Window(NOW - HISTORY, sent + 3 * DAY),)

    long_ago = plan(["+4915123456789"], NOW - 100 * DAY, NOW - 99 * DAY, NOW)
    assert long_ago.too_old and long_ago.windows == ()
    assert plan([], None, NOW - 100 * DAY, NOW).too_old  # unknown time, case opened long ago


def test_a_send_time_in_the_future_is_taken_as_now() -> None:
    search = plan(["+4915123456789"], NOW + 5 * DAY, NOW, NOW)
    assert search.windows == (Window(NOW - DAY, NOW),)
