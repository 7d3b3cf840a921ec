"""What background work stores in English reads in the reader's language when shown."""

from __future__ import annotations

import io
from datetime import UTC, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import trans_real

from diagnosis.cases import send_details_imports
from diagnosis.delivery import send_details, stored_sentences
from diagnosis.delivery.stored_sentences import shown
from diagnosis.models import ImportState, SendDetailsImport


def in_chinese(msgid: str, **values: object) -> str:
    with translation.override("zh-hans"):
        said = translation.gettext(msgid)
    assert said != msgid, f"no Chinese for {msgid!r}"
    return said % values if values else said


def test_a_stored_text_that_is_a_msgid_of_its_own_reads_as_its_own_translation() -> None:
    # "the message id is empty" is a msgid, and also fits "the %(field)s is empty": its own
    # translation says it better than the general one with an English value in it.
    with translation.override("zh-hans"):
        msgids = trans_real.catalog()._catalog.keys()  # type: ignore[attr-defined]  # no __iter__
        fits_a_sentence = [
            msgid
            for msgid in msgids
            if isinstance(msgid, str)
            and msgid
            and any(
                declared.msgid != msgid and declared.pattern.fullmatch(msgid)
                for declared in stored_sentences._SENTENCES
            )
        ]
        assert "the message id is empty" in fits_a_sentence
        for msgid in fits_a_sentence:
            assert shown(msgid) == translation.gettext(msgid), msgid


def test_every_declared_sentence_reads_back_its_values_in_chinese() -> None:
    assert stored_sentences._SENTENCES, "the import modules declare their sentences"
    for declared in stored_sentences._SENTENCES:
        names = stored_sentences._PLACEHOLDER.findall(declared.msgid)
        values = {name: f"<{index}>" for index, name in enumerate(names)}
        stored = declared.english(**values)
        assert shown(stored) == stored  # the source language
        with translation.override("zh-hans"):
            worded = shown(stored)
        assert worded == in_chinese(declared.msgid, **values)
        assert all(value in worded for value in values.values())


def test_a_rejected_row_with_values_reads_in_chinese() -> None:
    headers, cells = ["a", "b", "c"], ["1", "2"]
    with pytest.raises(send_details._Rejected) as raised:
        send_details._report(cells, headers, {"msg_id": 0, "status": 1}, UTC, timezone.now())
    stored = str(raised.value)
    assert stored == "expected 3 cells like the header, found 2"
    with translation.override("zh-hans"):
        assert shown(stored) == in_chinese(
            "expected %(expected)s cells like the header, found %(found)s", expected=3, found=2
        )


def test_a_fixed_text_is_translated_and_anything_else_shown_as_stored() -> None:
    with translation.override("zh-hans"):
        assert shown(send_details_imports.FILE_GONE) == in_chinese(send_details_imports.FILE_GONE)
        assert shown("something a person typed") == "something a person typed"
        assert shown("") == ""


@pytest.mark.django_db
def test_a_failed_import_reads_in_the_lead_s_language(client: Client, lead: User) -> None:
    job = SendDetailsImport.objects.create(
        file_name="x.csv",
        encoding="utf-8-sig",
        timezone_name="UTC",
        uploaded_by=lead,
        state=ImportState.RUNNING,
        attempts=send_details_imports.MAX_ATTEMPTS,
        claimed_until=timezone.now(),
    )
    send_details_imports.dispatch_stale(timezone.now() + timedelta(seconds=1))
    job.refresh_from_db()
    assert "stopped 3 times" in job.error  # stored in English

    client.force_login(lead)
    page = client.get(f"/leads/import/{job.pk}/", headers={"accept-language": "zh-hans"}).content.decode()
    assert in_chinese(send_details_imports.STOPPED.msgid, times=3) in page
    assert "stopped 3 times" not in page


def test_a_file_error_raised_in_the_worker_reads_in_chinese_when_shown() -> None:
    # The worker has no reader: it raises, and stores, the English sentence.
    unreadable = "SMS ID,Status\n" + "x" * 200_000 + ",DELIVRD\n"
    with translation.override("en"), pytest.raises(send_details.SendDetailsError) as raised:
        list(send_details._read_rows(io.StringIO(unreadable)))
    stored = str(raised.value)
    assert stored.startswith("Line 2 cannot be read as CSV")

    with translation.override("zh-hans"):
        said = shown(stored)
    assert said.startswith("第2行"), said
