"""No inline script, style or event handler in what the portal renders.

The Content-Security-Policy allows scripts and styles only from the portal's own files,
so anything inline would be refused by the browser. This scan is the cheap first line;
tests/browser/test_csp.py loads every page and listens for the browser's own refusals.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "style attribute": re.compile(r"""\sstyle\s*=\s*["'{]""", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.IGNORECASE),
    "hx-on attribute": re.compile(r"\s(?:data-)?hx-on", re.IGNORECASE),
    "javascript: URL": re.compile(r"""["'=]\s*javascript:""", re.IGNORECASE),
    "js: value": re.compile(r"""["']js:""", re.IGNORECASE),
    # An hx-trigger filter (`click[ctrlKey]`) is code htmx would have to evaluate.
    "hx-trigger filter": re.compile(r"""hx-trigger\s*=\s*["'][^"']*\[""", re.IGNORECASE),
}


def _html_files() -> list[Path]:
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.html")]
    return sorted(path for path in files if "emails" not in path.relative_to(ROOT).parts)


def _python_files() -> list[Path]:
    """Code that may build HTML with format_html or mark_safe (charts, panels, admin)."""
    return sorted(path for package in ("diagnosis", "portal") for path in (ROOT / package).rglob("*.py"))


def offences(text: str) -> list[tuple[str, str]]:
    return [(name, match.group(0).strip()) for name, rx in FORBIDDEN.items() for match in rx.finditer(text)]


def test_the_scan_finds_each_kind_of_offence() -> None:
    sample = (
        '<p style="color: red"><style>p{}</style><script>x()</script><a onclick="x()" '
        'href="javascript:x()" hx-on:click="x()" hx-vals=\'js:{a: 1}\' hx-trigger="click[ctrlKey]">'
    )
    assert [name for name, _ in offences(sample)] == list(FORBIDDEN)
    assert offences('<script src="/static/js/portal.js" defer></script><p class="onboarding">') == []


@pytest.mark.parametrize("path", _html_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_hold_no_inline_code_or_style(path: Path) -> None:
    assert offences(path.read_text()) == []


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_renders_no_inline_code_or_style(path: Path) -> None:
    assert offences(path.read_text()) == []
