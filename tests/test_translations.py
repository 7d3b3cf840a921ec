"""Every language's catalogue is complete, and a new string cannot land without its translation.

`make messages` collects the marked strings; these tests fail when the committed catalogue
misses one of them, holds an untranslated or fuzzy entry, or when the compiled .mo the
portal reads is older than the .po. Templates are also read for text left unmarked.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
# Everything makemessages reads, copied so that the check never rewrites the real catalogue.
SOURCES = ("manage.py", "portal", "diagnosis", "templates", "static")
IGNORE = ["--ignore=.venv", "--ignore=var", "--ignore=tests", "--ignore=bench", "--ignore=node_modules"]

LOCALES = sorted(p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/django.po"))


def test_every_language_but_the_source_has_a_catalogue() -> None:
    expected = {code.replace("-hans", "_Hans").replace("-hant", "_Hant") for code, _ in settings.LANGUAGES}
    assert set(LOCALES) == expected - {"en"}


def _po(locale: str, root: Path = ROOT) -> Path:
    return root / "locale" / locale / "LC_MESSAGES" / "django.po"


def _entries_where(po: Path, *flags: str) -> str:
    """The entries msgattrib selects (header left out), as text for the failure message."""
    out = subprocess.run(
        ["msgattrib", *flags, "--no-obsolete", "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    blocks = [b for b in out.split("\n\n") if b.strip() and 'msgid ""\nmsgstr ""' not in b]
    return "\n\n".join(blocks)


def _catalog(mo: Path) -> dict[object, str]:
    with mo.open("rb") as f:
        return dict(gettext.GNUTranslations(f)._catalog)  # type: ignore[attr-defined]


def _compiled(po: Path, tmp_path: Path) -> dict[object, str]:
    mo = tmp_path / f"{po.parent.parent.name}.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True, capture_output=True)
    return _catalog(mo)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_message_is_untranslated_or_fuzzy(locale: str) -> None:
    po = _po(locale)
    assert not _entries_where(po, "--untranslated"), f"untranslated in {po}"
    assert not _entries_where(po, "--only-fuzzy"), f"fuzzy in {po}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_and_plurals_check_out(locale: str) -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(_po(locale))], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_is_the_current_one(locale: str, tmp_path: Path) -> None:
    committed = _po(locale).with_suffix(".mo")
    assert committed.exists(), "run `make messages`"
    assert _catalog(committed) == _compiled(_po(locale), tmp_path), "the .mo is stale: run `make messages`"


@pytest.mark.slow
def test_makemessages_finds_nothing_the_catalogues_lack(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    shutil.copytree(LOCALE, copy / "locale")
    # The status-code texts come from catalogue_texts.py, which test_catalogue_texts.py keeps
    # in step with the CSV.
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            *(f"-l{loc}" for loc in LOCALES),
            "--no-obsolete",
            *IGNORE,
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "1",
            "PYTHONPATH": str(copy),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        },
    )
    for locale in LOCALES:
        fresh = _po(locale, copy)
        assert not _entries_where(fresh, "--untranslated"), (
            f"strings missing from {locale}: run `make messages`"
        )
        assert not _entries_where(fresh, "--only-fuzzy"), f"strings changed since {locale} was translated"
        assert set(_compiled(fresh, tmp_path)) == set(_compiled(_po(locale), tmp_path)), (
            f"{locale} holds strings the code no longer uses: run `make messages`"
        )


# Text outside {% translate %} / {% blocktranslate %} in a template ------------------------------

_TEMPLATES = sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.txt"))
_DROP = [
    re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S),
    re.compile(r"{#.*?#}", re.S),
    re.compile(r"{%\s*blocktranslate\b.*?{%\s*endblocktranslate\s*%}", re.S),
    re.compile(r"<(script|style)\b.*?</\1>", re.S),
    re.compile(r"{%.*?%}|{{.*?}}", re.S),
    re.compile(r"<!--.*?-->", re.S),
]
_READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')
_TAG = re.compile(r"<[^>]*>", re.S)
_ATTRIBUTE = re.compile(r'[\w-]+="[^"]*"|\bdata-[\w-]+')
# Words that are the same in every language: product names, codes, symbols.
_SAME_EVERYWHERE = re.compile(r"^(?:SMS|DELIVRD|Huawei|HTMX|CSV|ID|API|E\.164|[A-Z0-9_]{2,}|&\w+;)$")


def _unmarked(text: str) -> list[str]:
    for pattern in _DROP:
        text = pattern.sub(" ", text)
    found = [value for value in _READ_ATTRIBUTES.findall(text) if re.search(r"[A-Za-z]", value)]
    text = _ATTRIBUTE.sub(" ", text)  # a partial that is a list of attributes (region.html)
    for chunk in _TAG.sub("\n", text).split("\n"):
        words = [w for w in re.findall(r"[A-Za-z][\w.'’-]*", chunk) if not _SAME_EVERYWHERE.match(w)]
        if words:
            found.append(chunk.strip())
    return found


@pytest.mark.parametrize("template", _TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_hold_no_unmarked_text(template: Path) -> None:
    assert _unmarked(template.read_text()) == []
