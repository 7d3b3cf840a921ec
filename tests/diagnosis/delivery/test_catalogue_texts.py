"""The catalogue's texts for translators stay in step with the CSV, and pages translate them."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from diagnosis.delivery import catalogue, catalogue_texts
from diagnosis.models import StatusCode


def test_the_generated_module_matches_the_csv() -> None:
    expected = catalogue_texts.current_source()
    assert catalogue_texts.MODULE_FILE.read_text(encoding="utf-8") == expected, (
        "diagnosis/delivery/catalogue_texts.py is out of date with diagnosis/data/status_codes.csv: "
        "run `python -m diagnosis.delivery.catalogue_texts`"
    )


def test_every_code_of_the_csv_is_listed_with_its_texts() -> None:
    rows = {row["code"]: (row["summary"], row["advice"]) for row in catalogue.read_catalogue()}
    assert rows == catalogue_texts.TEXTS


@pytest.mark.django_db
def test_a_code_is_stored_in_english_and_shown_in_the_active_language() -> None:
    code = StatusCode.objects.get(code="DELIVRD")
    summary, advice = catalogue_texts.TEXTS["DELIVRD"]
    assert (code.summary, code.advice) == (summary, advice)
    assert (code.translated_summary, code.translated_advice) == (summary, advice)
    with translation.override("zh-hans"):
        assert code.translated_summary == gettext(summary)
        assert code.translated_advice == gettext(advice)
    assert StatusCode(code="X", summary="").translated_summary == ""
