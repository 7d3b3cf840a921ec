"""Every time an agent reads is written the portal's one way per language (portal/formats/)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from diagnosis.cases import services
from diagnosis.models import Case, Event

# Apart from the console-matching panels ("2026-11-29 08:54"), no other way of writing a time.
OTHER_WAYS = re.compile(r"\d{1,2}:\d{2} ?[ap]\.m\.|\d{4}-\d{2}-\d{2}T\d{2}:|\b(?:noon|midnight)\b")


@pytest.mark.django_db
def test_the_case_page_writes_every_time_the_same_way(
    client: Client, agent: User, make_case: Callable[..., Case], settings
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    case = make_case(description="Codes never arrive.")
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    moment = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)  # 15:05 in Berlin
    Case.objects.filter(pk=case.pk).update(sent_at=moment, created_at=moment)
    Event.objects.filter(case=case).update(at=moment)
    client.force_login(agent)

    html = client.get(f"/cases/{case.reference}/?panels=all").content.decode()
    page = re.sub(r"<[^>]*>", " ", html)  # what is read; machine-readable datetime= attributes aside

    assert "Nov 29, 2026, 15:05" in page  # the customer's report and the conversation
    assert "Nov 29, 15:05" in page  # the timeline
    assert not OTHER_WAYS.search(page), OTHER_WAYS.search(page)


@pytest.mark.django_db
def test_in_chinese_times_are_written_the_chinese_way_and_numbers_stay_international(
    client: Client, agent: User, make_case: Callable[..., Case], settings
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    case = make_case(number="+4915123456789", description="Codes never arrive.")
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    moment = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)  # 15:05 in Berlin
    Case.objects.filter(pk=case.pk).update(sent_at=moment, created_at=moment)
    Event.objects.filter(case=case).update(at=moment)
    client.force_login(agent)

    def read(language: str) -> str:
        url = f"/cases/{case.reference}/?panels=all"
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return re.sub(r"<[^>]*>", " ", html)

    page = read("zh-CN")
    assert "2026年11月29日 15:05" in page  # the customer's report and the conversation
    assert "11月29日 15:05" in page  # the timeline
    assert "Nov 29" not in page
    assert not OTHER_WAYS.search(page), OTHER_WAYS.search(page)
    # A phone number is written the same in every language: international, with its +.
    numbers = re.compile(r"\+\d[\d ]{6,}\d")
    assert "+4915123456789" in numbers.findall(page)
    assert sorted(numbers.findall(page)) == sorted(numbers.findall(read("en")))
