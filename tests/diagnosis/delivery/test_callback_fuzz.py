"""Whatever reaches the status callback: never a 5xx, every refusal kept, every readable report stored.

Generated bodies cover forms, JSON and other content types, with the inputs that
once broke it: NULs, lone surrogates, undecodable bytes, deep nesting, NaN and
Infinity, huge numbers, lying Content-Length headers and odd charsets. Readable
reports include odd ones: times written other ways or not at all readable, sources
the portal does not know, part numbers that do not add up.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from django.db import transaction
from django.db.models.signals import post_save
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnosis.delivery.callback import MAX_BODY_BYTES
from diagnosis.models import RejectedPayload, StatusReport, StatusSource

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ANSWERS = {200, 400, 401, 404, 413, 415}
KEPT = {400, 413, 415}
KEPT_LIMIT = MAX_BODY_BYTES + 200  # a refused body is kept whole up to the size limit, then cut
# A report of a JSON batch that could not be used is kept on its own, under this reason.
ITEM_REASON = re.compile(r"report \d+ of \d+: ")
MEANINGFUL = (
    "smsMsgId",
    "status",
    "statusDesc",
    "total",
    "sequence",
    "source",
    "updateTime",
    "extend",
    "to",
    "orgCode",
    "statusReportList",
)
CODES = ["DELIVRD", "UNDELIV", "EXPIRED", "E200027", "SMGPERR:52", "REJECTD*704", "ZZ:99999"]
NASTY_CHARS = list("\x00\x01\x08\x1b\x7f\x85\u2028\ufeff\uffff\U0010ffff\ud800\udbff\udc00\udfff")
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@dataclass
class Push:
    body: bytes
    content_type: str
    # Set only when the body holds reports the portal must accept: their message ids.
    msg_ids: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)  # WSGI environ entries
    signed: bool = False

    @property
    def received(self) -> bytes:
        """What the view can read: the body cut to a smaller Content-Length, nothing for a non-number."""
        declared = self.meta.get("CONTENT_LENGTH")
        if declared is None:
            return self.body
        try:
            return self.body[: max(int(declared), 0)]
        except ValueError:
            return b""


# --- strategies --------------------------------------------------------------------------------

nasty_char = st.one_of(st.characters(exclude_categories=()), st.sampled_from(NASTY_CHARS))
nasty_text = st.text(nasty_char, max_size=20)
numbers_ = st.one_of(
    st.integers(),
    st.integers(min_value=1, max_value=10**6).map(lambda n: n * 10**200),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers_, nasty_text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(nasty_text, children, max_size=3),
    max_leaves=12,
)
extra_keys = nasty_text.filter(lambda key: key not in MEANINGFUL)
# Raw JSON the platform might one day send in an extra field; each must leave a good report acceptable.
raw_tokens = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "0.1e-400", "-0", "1.5E+308"]),
    st.integers(1, 4400).map(lambda n: "9" * n),
    st.integers(300, 1000).map(lambda n: "1" + "0" * n + ".5"),
    st.integers(1, 100).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 60).map(lambda n: '{"a":' * n + "null" + "}" * n),
    st.sampled_from(
        ['"\\u0000"', '"\\ud800"', '"\\udc00\\ud800"', '{"\\u0000\\ud800": "\\u0000"}', '"a\\u0000b"']
    ),
    st.integers(1, 8000).map(lambda n: '"' + "k" * n + '"'),
)


TIME_FORMATS = [
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S+08:00",
    "%Y/%m/%d %H:%M:%S.%f +0800",
]
# Times no one can read: the report is kept all the same, without a time.
ODD_TIMES = ["yesterday", "2024-13-01T08:00:05Z", "2024-05-01T08:00:05+99:00", "0", "-1"]


@st.composite
def good_reports(draw: st.DrawFn, *, nasty_extras: bool = True) -> dict[str, object]:
    """A report with a usable message id and status; anything else may be odd or garbage."""
    total = draw(st.integers(1, 3))
    report: dict[str, object] = {
        "smsMsgId": draw(st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=64)),
        "status": draw(st.sampled_from(CODES)),
        "total": draw(st.sampled_from([total, str(total), "0", "x", "123456"])),
        "sequence": str(draw(st.integers(0, total + 1))),
    }
    if draw(st.booleans()):
        moment = draw(st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(9999, 12, 30)))
        report["updateTime"] = draw(
            st.one_of(
                st.sampled_from(TIME_FORMATS).map(moment.strftime),
                st.sampled_from(ODD_TIMES),
                st.integers(946_684_800_000, 4_102_444_800_000),
            )
        )
    if draw(st.booleans()):
        report["source"] = draw(st.sampled_from(["1", "2", "3", 2, "4", "0", "carrier-x"]))
    if nasty_extras:
        for name in ("updateTime", "source"):
            if draw(st.integers(0, 4)) == 0:
                report[name] = draw(st.one_of(nasty_text, json_values))
        for name in ("statusDesc", "extend", "orgCode", "to"):
            if draw(st.booleans()):
                report[name] = draw(st.one_of(nasty_text, st.just("+8613800138000")))
        report.update(draw(st.dictionaries(extra_keys, json_values, max_size=4)))
    return report


def _json_bytes(document: object, ascii_only: bool) -> bytes:
    # Without ensure_ascii a lone surrogate reaches the body as bytes no UTF-8 decoder accepts.
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def good_json_pushes(draw: st.DrawFn) -> Push:
    reports = draw(st.lists(good_reports(), min_size=1, max_size=4))
    texts = [_json_bytes(report, draw(st.booleans())) for report in reports]
    for index, text in enumerate(texts):
        if draw(st.booleans()):  # splice a raw token no json.dumps would write
            texts[index] = text[:-1] + b', "xRaw": ' + draw(raw_tokens).encode() + b"}"
    body = b'{"statusReportList": [' + b", ".join(texts) + b"]}"
    content_type = draw(st.sampled_from([JSON, JSON + "; charset=utf-8", JSON + ";charset=UTF-8"]))
    return Push(body, content_type, msg_ids=tuple(str(r["smsMsgId"]) for r in reports))


def _form_part(text: str, raw: bool) -> bytes:
    encoded = text.encode("utf-8", "surrogatepass")
    if raw:  # as sent by a careless client: only the separators are kept out
        return encoded.replace(b"&", b"").replace(b"=", b"").replace(b"%", b"")
    return quote(encoded, safe="").encode()


@st.composite
def good_form_pushes(draw: st.DrawFn) -> Push:
    report = draw(good_reports(nasty_extras=False))
    pairs = [(k, str(v)) for k, v in report.items()]
    for name in ("statusDesc", "extend", "orgCode", "to"):
        if draw(st.booleans()):
            pairs.append((name, draw(nasty_text)))
    # Extra keys start with "x", so no careless encoding can turn one into a meaningful field.
    pairs += [("x" + k, v) for k, v in draw(st.lists(st.tuples(nasty_text, nasty_text), max_size=4))]
    pairs = draw(st.permutations(pairs))
    raw_extras = draw(st.booleans())
    body = b"&".join(
        _form_part(k, raw_extras and k not in MEANINGFUL)
        + b"="
        + _form_part(v, raw_extras and k not in ("smsMsgId", "status", "total", "sequence", "source"))
        for k, v in pairs
    )
    return Push(
        body, draw(st.sampled_from([FORM, FORM + "; charset=utf-8"])), msg_ids=(str(report["smsMsgId"]),)
    )


@st.composite
def mutated(draw: st.DrawFn, pushes: st.SearchStrategy[Push]) -> Push:
    """A good body with bytes replaced, inserted or removed: whatever results, the answer must be sane."""
    push = draw(pushes)
    body = bytearray(push.body)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(body)))
        what = draw(st.binary(min_size=1, max_size=3))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "insert":
            body[where:where] = what
        elif action == "replace":
            body[where : where + len(what)] = what
        else:
            del body[where : where + len(what)]
    return Push(bytes(body), push.content_type)


@st.composite
def garbage_json_pushes(draw: st.DrawFn) -> Push:
    meaningful_garbage = st.dictionaries(st.sampled_from(MEANINGFUL), json_values, max_size=6)
    document = draw(
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"statusReportList": st.lists(st.one_of(meaningful_garbage, good_reports(), json_values))}
            ),
        )
    )
    return Push(_json_bytes(document, draw(st.booleans())), JSON)


@st.composite
def deep_json_pushes(draw: st.DrawFn) -> Push:
    depth = draw(st.integers(1, 40_000))
    opener = draw(st.sampled_from(["[", '{"a":', '{"statusReportList":[']))
    nest = opener * depth + draw(st.sampled_from(["", "1" + "]" * depth]))
    wrapped = draw(st.booleans())
    if wrapped:
        nest = '{"statusReportList": [{"smsMsgId": "deep", "status": "DELIVRD", "x": ' + nest + "}]}"
    return Push(nest.encode(), JSON)


@st.composite
def garbage_form_pushes(draw: st.DrawFn) -> Push:
    keys = st.one_of(st.sampled_from(MEANINGFUL), nasty_text)
    pairs = draw(st.lists(st.tuples(keys, nasty_text), max_size=8))
    raw = draw(st.booleans())
    body = b"&".join(_form_part(k, raw) + b"=" + _form_part(v, raw) for k, v in pairs)
    return Push(body, FORM)


content_types = st.one_of(
    st.sampled_from(
        [
            FORM,
            JSON,
            "",
            "text/xml",
            "text/plain",
            "application/octet-stream",
            "multipart/form-data; boundary=x",
            "APPLICATION/JSON",
            "Application/X-WWW-Form-Urlencoded",
            JSON + "; charset=utf-16",
            JSON + "; charset=latin-1",
            JSON + "; charset=bogus",
            JSON + "; charset=rot13",
            JSON + "; charset=zlib",
            JSON + '; charset="utf-8"',
            FORM + "; charset=iso-8859-1",
            FORM + "; charset=idna",
            FORM + "; charset=unicode_escape",
            "application/problem+json",
            "text/json",
        ]
    ),
    # Header values arrive as latin-1 text. Left out: NUL, which HTTP servers refuse in headers, and
    # "*", since an RFC 2231 parameter with an unknown charset makes Django raise while it builds
    # the request, before any view runs (Django ticket #36991).
    st.text(st.characters(max_codepoint=255, exclude_characters="\x00\r\n*"), max_size=40),
)
content_lengths = st.one_of(
    st.sampled_from(["abc", "-1", "", " 3 ", "0", "1e3", "\x00", "\u0664"]),
    st.integers(0, 200).map(str),
)


@st.composite
def other_pushes(draw: st.DrawFn) -> Push:
    """Any content type, random bytes or good bodies in another charset, lying lengths, bad signatures."""
    body = draw(
        st.one_of(
            st.binary(max_size=400),
            good_json_pushes().map(lambda p: p.body),
            good_form_pushes().map(lambda p: p.body),
        )
    )
    push = Push(body, draw(content_types))
    if draw(st.booleans()):
        declared = draw(content_lengths)
        if not declared.strip().isdigit() or int(declared) <= len(body):  # a longer lie hangs a real server
            push.meta["CONTENT_LENGTH"] = declared
    if draw(st.integers(0, 9)) == 0:
        push.signed = True
        latin = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=30)
        push.meta["HTTP_AUTHORIZATION"] = draw(
            st.one_of(
                latin, latin.map(lambda a: f"SDK-HMAC-SHA256 Access={a}, SignedHeaders=x, Signature=ab")
            )
        )
        push.meta["HTTP_X_SDK_DATE"] = draw(latin)
    return push


@st.composite
def charset_pushes(draw: st.DrawFn) -> Push:
    """A good report sent in a declared charset other than UTF-8 is read in that charset."""
    report = draw(good_reports(nasty_extras=False))
    charset = draw(st.sampled_from(["utf-16", "utf-16-le", "latin-1", "cp1252", "utf-8-sig", "UTF8"]))
    if draw(st.booleans()):
        body = json.dumps({"statusReportList": [report]}, ensure_ascii=False)
        content_type = f"{JSON}; charset={charset}"
    else:
        body = "&".join(f"{k}={quote(str(v))}" for k, v in report.items()) + "&xNote=café"
        content_type = f"{FORM}; charset={charset}"
    return Push(body.encode(charset), content_type, msg_ids=(str(report["smsMsgId"]),))


# --- the check ---------------------------------------------------------------------------------


@pytest.fixture
def sources(db: None) -> dict[bool, StatusSource]:
    return {
        False: StatusSource.objects.create(name="fuzz"),
        True: StatusSource.objects.create(name="fuzz-signed", push_access_key="ak", push_secret_key="sk"),
    }


@pytest.fixture
def saved() -> Iterator[list[RejectedPayload]]:
    """Rejected payloads as the view saved them, to compare with what the database gives back."""
    rows: list[RejectedPayload] = []

    def keep(sender: type, instance: RejectedPayload, **kwargs: object) -> None:
        rows.append(instance)

    post_save.connect(keep, sender=RejectedPayload, dispatch_uid="fuzz-saved")
    yield rows
    post_save.disconnect(sender=RejectedPayload, dispatch_uid="fuzz-saved")


def _last_pk(model: type[RejectedPayload] | type[StatusReport]) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _storable(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


def check(client: Client, sources: dict[bool, StatusSource], saved: list[RejectedPayload], push: Push) -> int:
    """Post one body and assert every promise the callback makes about it; returns the status."""
    source = sources[push.signed]
    last_rejected, last_report = _last_pk(RejectedPayload), _last_pk(StatusReport)
    saved.clear()
    # A savepoint per body keeps one failure from poisoning the rest of the run's transaction.
    with transaction.atomic():
        response = client.generic(
            "POST", source.callback_path(), data=push.body, CONTENT_TYPE=push.content_type, **push.meta
        )
    status = response.status_code
    assert status in ANSWERS, f"{status} for {push!r}"
    kept = list(RejectedPayload.objects.filter(pk__gt=last_rejected).order_by("pk"))
    assert len(kept) == len(saved)
    for row, sent in zip(kept, saved, strict=True):
        assert row.source == source and row.reason
        # The text comes back from the database exactly as the portal saved it: nothing was mangled.
        assert (row.body, row.reason, row.content_type) == (sent.body, sent.reason, sent.content_type)
        assert _storable(row.body) and _storable(row.reason) and _storable(row.content_type)
        assert len(row.body) <= KEPT_LIMIT
    # Reports of a JSON batch that could not be used, each kept on its own.
    unusable = [row for row in kept if ITEM_REASON.match(row.reason)]
    if status == 200:
        assert kept == unusable, f"a stored push kept more than its unusable reports: {push!r}"
        assert response.content == b""
    elif status in KEPT and unusable:
        # No report of the batch could be used: each is kept, and the answer names them all.
        assert status == 400 and kept == unusable
        assert response.content.decode() == "".join(row.reason + "\n" for row in kept)
    elif status in KEPT:
        assert len(kept) == 1, f"the refused body was not kept: {push!r}"
        row = kept[0]
        received = push.received
        if len(received) <= MAX_BODY_BYTES and all(32 <= b < 127 or b in b"\t\n\r" for b in received):
            assert row.body == received.decode()  # plain text is kept as it came
        elif received:
            assert row.body, "a body was received but none kept"
        assert response.content.decode() == row.reason + "\n"
    else:
        assert not kept, f"{status} kept a rejected payload"
    stored = list(StatusReport.objects.filter(pk__gt=last_report))
    if status == 200:
        for msg_id in push.msg_ids:
            assert StatusReport.objects.filter(msg_id=msg_id).exists(), f"{msg_id} was not stored"
        for report in stored:
            assert _storable(json.dumps(report.raw)) and _storable(report.status_desc + report.extend)
    else:
        assert not stored, "a refused push stored reports"
    if push.msg_ids:
        assert status == 200, f"a good report was refused ({response.content!r}): {push!r}"
    return status


@pytest.mark.django_db
@settings(SETTINGS, max_examples=500)
@given(push=st.one_of(good_form_pushes(), mutated(good_form_pushes()), garbage_form_pushes()))
def test_any_form_body(
    client: Client, sources: dict[bool, StatusSource], saved: list[RejectedPayload], push: Push
) -> None:
    check(client, sources, saved, push)


@pytest.mark.django_db
@settings(SETTINGS, max_examples=900)
@given(
    push=st.one_of(good_json_pushes(), mutated(good_json_pushes()), garbage_json_pushes(), deep_json_pushes())
)
def test_any_json_body(
    client: Client, sources: dict[bool, StatusSource], saved: list[RejectedPayload], push: Push
) -> None:
    check(client, sources, saved, push)


@pytest.mark.django_db
@settings(SETTINGS, max_examples=600)
@given(push=st.one_of(other_pushes(), charset_pushes()))
def test_any_content_type_length_or_signature(
    client: Client, sources: dict[bool, StatusSource], saved: list[RejectedPayload], push: Push
) -> None:
    check(client, sources, saved, push)


# --- the cases that were seen failing, spelled out ------------------------------------------------

Poster = Callable[[bytes, str], int]
GOOD = b"smsMsgId=m1&status=DELIVRD&updateTime=2024-05-01T08%3A00%3A05Z"


@pytest.fixture
def post(client: Client, sources: dict[bool, StatusSource], saved: list[RejectedPayload]) -> Poster:
    return lambda body, content_type: check(client, sources, saved, Push(body, content_type))


def test_a_nul_in_a_refused_body_is_kept_escaped(post: Poster) -> None:
    assert post(b"status=DELIVRD&x=\x00\xff", FORM) == 400
    assert RejectedPayload.objects.get().body == "status=DELIVRD&x=\\x00\\xff"


def test_a_nul_in_an_extra_field_keeps_the_report(post: Poster) -> None:
    assert post(GOOD + b"&note=a%00b&raw=c\x00d", FORM) == 200
    report = StatusReport.objects.get()
    assert (report.msg_id, report.raw["note"], report.raw["raw"]) == ("m1", "a\\x00b", "c\\x00d")
    body = b'{"statusReportList": [{"smsMsgId": "m2", "status": "DELIVRD", "a": "\\u0000", "b": "\x00"}]}'
    assert post(body, JSON) == 200
    assert StatusReport.objects.get(msg_id="m2").raw == {
        "smsMsgId": "m2",
        "status": "DELIVRD",
        "a": "\\x00",
        "b": "\\x00",
    }


def test_a_nul_in_the_message_id_is_refused(post: Poster) -> None:
    assert post(b"smsMsgId=m%001&status=DELIVRD", FORM) == 400
    assert "smsMsgId" in RejectedPayload.objects.get().reason


def test_json_nested_100k_deep_is_refused_and_kept(post: Poster) -> None:
    # 100,000 levels do not fit the size limit; a body that does (32,000) must be read as bad JSON.
    assert post(b"[" * 100_000 + b"]" * 100_000, JSON) == 413
    assert post(b"[" * 32_000 + b"]" * 32_000, JSON) == 400
    kept = RejectedPayload.objects.order_by("pk")
    assert kept[0].body.startswith("[[[") and "nested" in kept[1].reason


def test_nan_and_infinity_in_an_extra_field_keep_the_report(post: Poster) -> None:
    body = (
        b'{"statusReportList": [{"smsMsgId": "m1", "status": "DELIVRD", "x": NaN, "y": [-Infinity, 1e999]}]}'
    )
    assert post(body, JSON) == 200
    assert StatusReport.objects.get().raw == {
        "smsMsgId": "m1",
        "status": "DELIVRD",
        "x": "NaN",
        "y": ["-Infinity", "1e999"],
    }


def test_lone_surrogates(post: Poster) -> None:
    extra = b'{"statusReportList": [{"smsMsgId": "m1", "status": "DELIVRD", "\\ud800": "\\udfff\\u0000"}]}'
    assert post(extra, JSON) == 200
    assert StatusReport.objects.get().raw["\\ud800"] == "\\udfff\\x00"
    in_the_id = b'{"statusReportList": [{"smsMsgId": "m\\ud800", "status": "DELIVRD"}]}'
    assert post(in_the_id, JSON) == 400
    assert "report 1 of 1: smsMsgId" in RejectedPayload.objects.get().reason


def test_huge_numbers_and_undecodable_bytes_in_extras_keep_the_report(post: Poster) -> None:
    body = (
        b'{"statusReportList": [{"smsMsgId": "m1", "status": "DELIVRD", "n": '
        + b"9" * 5000
        + b', "b": "\xff"}]}'
    )
    assert post(body, JSON) == 200
    raw = StatusReport.objects.get().raw
    assert raw["n"] == "9" * 5000 and raw["b"] == "\\xff"


@pytest.mark.parametrize("token", ["%00", "%FF", "x" * 300, "%ED%A0%80"])
def test_odd_tokens_are_404_and_not_kept(
    client: Client, sources: dict[bool, StatusSource], token: str
) -> None:
    assert client.post(f"/hooks/sms-status/{token}/", data=GOOD, content_type=FORM).status_code == 404
    assert not RejectedPayload.objects.exists()


def test_a_utf16_json_push_is_read_in_its_charset(post: Poster) -> None:
    body = '{"statusReportList": [{"smsMsgId": "m1", "status": "DELIVRD", "statusDesc": "送达"}]}'
    assert post(body.encode("utf-16"), JSON + "; charset=utf-16") == 200
    assert StatusReport.objects.get().status_desc == "送达"
    assert post(b"smsMsgId=m1&status=DELIVRD", FORM + "; charset=no-such-charset") == 415


def test_a_body_cut_off_mid_way_is_400_and_kept(client: Client, sources: dict[bool, StatusSource]) -> None:
    class Broken:
        def read(self, size: int = -1) -> bytes:
            raise OSError("connection reset by peer")

        readline = read

    environ: dict[str, Any] = {"wsgi.input": Broken()}
    response = client.generic("POST", sources[False].callback_path(), data=GOOD, content_type=FORM, **environ)
    assert response.status_code == 400
    assert RejectedPayload.objects.get().reason == "the body could not be read to its end"


def test_a_non_ascii_access_key_is_401(
    client: Client, sources: dict[bool, StatusSource], saved: list[RejectedPayload]
) -> None:
    header = "SDK-HMAC-SHA256 Access=cl\xe9, SignedHeaders=x-sdk-date, Signature=ab"
    push = Push(GOOD, FORM, meta={"HTTP_AUTHORIZATION": header, "HTTP_X_SDK_DATE": "x"}, signed=True)
    assert check(client, sources, saved, push) == 401
