"""What `make bench` measures over HTTP: each portal request beside its bare baseline.

`prepare()` picks real rows from the seeded database (cases, numbers, message ids,
tracking links, the case at the start of page 200), signs staff in by creating sessions
directly, gives one case 40 extra status reports and 40 notes, and sets aside a pool of
new cases so every step submission answers a different case; `release()` undoes what it
added. `scenarios()` turns that into request lists that any driver can replay: wrk
(`bench/run.py`) or Django's test client (`run_client`, used by the smoke test). Each
scenario carries the target the issue sets for it.
"""

from __future__ import annotations

import secrets
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.seed_scale import BENCH_AGENT, BENCH_LEAD, bench_tracking_token
from diagnosis.cases import queue
from diagnosis.guide import get_guide
from diagnosis.models import (
    Case,
    CaseState,
    Event,
    EventKind,
    Message,
    ReportChannel,
    StatusReport,
    StatusSource,
)
from portal.accounts.mfa import SESSION_HAS_AUTHENTICATOR
from portal.accounts.sessions import LAST_ACTIVE_AT, SIGNED_IN_AT

SAMPLE = 200  # distinct cases, numbers and links each page scenario cycles through
SOURCE_NAME = "bench"
DEEP_PAGE = 200  # "a deep page": page 200 of All, oldest first
HEAVY_ITEMS = 40  # status reports and notes added to the "busy case" of the case-page scenario
HEAVY_KEY = "bench-heavy|"  # dedupe-key prefix of those reports; their notes carry data.bench_heavy
HEAVY_STATUSES = ("ACCEPTD", "UNDELIV", "DELIVRD", "EXPIRED")


@dataclass(frozen=True)
class Target:
    """What the issue asks of one scenario, as a ratio to its baseline measured in the same run.

    metric "p50": portal p50 ÷ baseline p50 must be at most `limit` (and no errors);
    metric "rps": portal req/s ÷ baseline req/s must be at least `limit`.
    """

    metric: str
    limit: float

    def met(self, ratio: float, errors: int = 0) -> bool:
        if self.metric == "rps":
            return ratio >= self.limit and errors == 0
        return ratio <= self.limit and errors == 0

    @property
    def label(self) -> str:
        return f"req/s ≥ {self.limit:g}×" if self.metric == "rps" else f"p50 ≤ {self.limit:g}×"


PAGE_TARGET = Target("p50", 2.0)
DASHBOARD_TARGET = Target("p50", 3.0)
CALLBACK_TARGET = Target("rps", 0.8)


@dataclass(frozen=True)
class Fixtures:
    agent_id: int
    agent_cookie: str
    lead_cookie: str
    csrf: str
    references: list[str]
    tokens: list[str]
    numbers: list[str]
    message_ids: list[str]
    step_pool: list[str]
    callback_path: str
    deep_path: str  # the queue's page 200 of All (keyset cursor when the queue offers one)
    deep_baseline_path: str  # the same 25 rows by keyset in one query
    deep_note: str
    heavy_reference: str  # a case given HEAVY_ITEMS extra reports and notes


@dataclass(frozen=True)
class Request:
    """One side (portal or baseline) of a scenario: paths used in turn and how to send them."""

    paths: list[str]
    method: str = "GET"
    body: str = ""  # "", "step", "form" or "batch" (see bench/wrk.lua)
    cookie: str = ""
    htmx: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    portal: Request
    baseline: Request
    target: Target = PAGE_TARGET
    note: str = ""

    @property
    def compare(self) -> str:
        """ "latency" (p50 against p50) or "throughput" (req/s against req/s)."""
        return "throughput" if self.target.metric == "rps" else "latency"


@dataclass
class Measurement:
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    mean_ms: float = 0.0
    errors: int = 0
    socket_errors: int = 0
    queries_mean: float = 0.0
    queries_max: int = 0
    wrapped: int = 0
    extra: dict[str, object] = field(default_factory=dict)


def _session(user_id: int) -> str:
    """A session as the two-step sign-in leaves it: password and authenticator code both given."""
    user = get_user_model().objects.get(pk=user_id)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Bench authenticator", confirmed=True
    )
    now = int(time.time())
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[SESSION_HAS_AUTHENTICATOR] = True
    store[SIGNED_IN_AT] = store[LAST_ACTIVE_AT] = now
    store.create()
    return store.session_key or ""


def _sample(sql: str, params: list[int], size: int) -> list[str]:
    """Rows spread over the whole table, cheaply: every k-th row of an index-ordered scan."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size])
        return [row[0] for row in cursor.fetchall()]


def prepare(pool_size: int) -> Fixtures:
    """Sessions, sample rows and a pool of fresh cases for the step submissions."""
    users = get_user_model().objects
    agent, lead = users.get(username=BENCH_AGENT), users.get(username=BENCH_LEAD)
    # Only the hash of a callback token is stored: give the bench source a fresh one each run.
    source = StatusSource.objects.filter(name=SOURCE_NAME).first() or StatusSource(name=SOURCE_NAME)
    source.token = secrets.token_urlsafe(32)
    source.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM diagnosis_case")
        top = cursor.fetchone()[0]
    step = max(top // SAMPLE, 1)
    references = _sample(
        "SELECT reference FROM diagnosis_case WHERE id %% %s = 0 ORDER BY id LIMIT %s", [step], SAMPLE
    )
    tracked = _sample("SELECT id FROM diagnosis_case WHERE id %% %s = 1 ORDER BY id LIMIT %s", [step], SAMPLE)
    tokens = [bench_tracking_token(int(case_id)) for case_id in tracked]
    numbers = _sample(
        "SELECT e164 FROM diagnosis_recipient WHERE case_id %% %s = 2 ORDER BY id LIMIT %s", [step], SAMPLE
    )
    message_ids = _sample(
        "SELECT msg_id FROM diagnosis_message WHERE case_id %% %s = 3 ORDER BY id LIMIT %s", [step], SAMPLE
    )
    deep_path, deep_baseline_path, deep_note = _deep_page()
    heavy_reference = _add_heavy_case(agent.pk)
    start = get_guide().start
    pool = list(
        Case.objects.filter(state=CaseState.NEW, current_node=start)
        .order_by("-pk")
        .values_list("pk", "reference")[:pool_size]
    )
    Case.objects.filter(pk__in=[pk for pk, _ in pool]).update(assigned_to=agent)
    csrf = secrets.token_hex(16)  # an unmasked 32-character secret: valid as cookie and header
    session, csrf_cookie = settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME
    return Fixtures(
        agent_id=agent.pk,
        agent_cookie=f"{session}={_session(agent.pk)}; {csrf_cookie}={csrf}",
        lead_cookie=f"{session}={_session(lead.pk)}",
        csrf=csrf,
        references=references,
        tokens=tokens,
        numbers=numbers,
        message_ids=message_ids,
        step_pool=[reference for _, reference in pool],
        callback_path=source.callback_path(),
        deep_path=deep_path,
        deep_baseline_path=deep_baseline_path,
        deep_note=deep_note,
        heavy_reference=heavy_reference,
    )


def _deep_page() -> tuple[str, str, str]:
    """Page 200 of All, oldest first: the page that starts right after the 4,975th case.

    Uses the queue's keyset cursor (`queue.encode_cursor`) when it exists, else `?page=200`.
    A small database gets its last full page instead.
    """
    size = queue.PAGE_SIZE
    total = Case.objects.count()
    offset = max(min(size * (DEEP_PAGE - 1), total - size) - 1, 0)
    page = (offset + 1) // size + 1
    case = Case.objects.order_by("created_at", "pk")[offset]
    encode = getattr(queue, "encode_cursor", None)
    if encode is not None:
        portal = f"/cases/?tab=all&after={quote(encode(case, queue.Sort.OLDEST))}"
        how = "keyset cursor"
    else:
        portal = f"/cases/?tab=all&page={page}"
        how = "?page= (the queue has no encode_cursor yet)"
    baseline = f"/bench/list/after/?created={quote(case.created_at.isoformat())}&id={case.pk}"
    return portal, baseline, f"page {page} of All, oldest first, by {how}"


def _add_heavy_case(actor_id: int) -> str:
    """One case with HEAVY_ITEMS more status reports (on its message id) and HEAVY_ITEMS notes."""
    _clear_heavy()
    message = (
        Message.objects.filter(case__state=CaseState.IN_PROGRESS)
        .select_related("case")
        .order_by("case_id")
        .first()
    ) or Message.objects.select_related("case").order_by("case_id").first()
    if message is None:
        raise RuntimeError("The bench database has no case with a message: seed it first.")
    now = timezone.now()
    StatusReport.objects.bulk_create(
        StatusReport(
            msg_id=message.msg_id,
            status=HEAVY_STATUSES[n % len(HEAVY_STATUSES)],
            channel=ReportChannel.CALLBACK,
            raw={"smsMsgId": message.msg_id, "bench": True},
            received_at=now - timedelta(minutes=HEAVY_ITEMS - n),
            updated_at=now - timedelta(minutes=HEAVY_ITEMS - n),
            dedupe_key=f"{HEAVY_KEY}{message.case_id}|{n}",
            matched_at=now,
        )
        for n in range(HEAVY_ITEMS)
    )
    Event.objects.bulk_create(
        Event(
            case_id=message.case_id,
            kind=EventKind.NOTE,
            actor_id=actor_id,
            at=now - timedelta(minutes=HEAVY_ITEMS - n),
            summary=f"Checked with the customer again (note {n + 1}).",
            data={"text": f"Checked with the customer again (note {n + 1}).", "bench_heavy": True},
        )
        for n in range(HEAVY_ITEMS)
    )
    return message.case.reference


def _clear_heavy() -> None:
    """Remove the busy case's extra reports and notes (also those of an interrupted run)."""
    # The reports name their case in the dedupe key (found through its index); the notes are
    # added after the reports, so every case that has such notes still has such reports here.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT split_part(dedupe_key, '|', 2)::bigint FROM diagnosis_statusreport "
            "WHERE dedupe_key LIKE %s",
            [HEAVY_KEY + "%"],
        )
        cases = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "DELETE FROM diagnosis_event WHERE case_id = ANY(%s) AND kind = 'note' AND data ? 'bench_heavy'",
            [cases],
        )
        cursor.execute("DELETE FROM diagnosis_statusreport WHERE dedupe_key LIKE %s", [HEAVY_KEY + "%"])


def release(fixtures: Fixtures, since_epoch: float) -> None:
    """Put the step pool back as it was (new, unassigned, no answers) and drop the busy case's extras."""
    _clear_heavy()
    start = get_guide().start
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM diagnosis_case WHERE reference = ANY(%s)", [fixtures.step_pool])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "DELETE FROM diagnosis_answerrecord WHERE case_id = ANY(%s) AND answered_at >= to_timestamp(%s)",
            [ids, since_epoch],
        )
        cursor.execute(
            "DELETE FROM diagnosis_event WHERE case_id = ANY(%s) AND at >= to_timestamp(%s)",
            [ids, since_epoch],
        )
        cursor.execute(
            "UPDATE diagnosis_case SET state = 'new', current_node = %s, assigned_to_id = NULL, revision = 1 "
            "WHERE id = ANY(%s)",
            [start, ids],
        )


def scenarios(fx: Fixtures) -> list[Scenario]:
    agent, lead = fx.agent_cookie, fx.lead_cookie
    refs, tokens = fx.references, fx.tokens
    number_q = [quote(n) for n in fx.numbers]
    message_q = [quote(m) for m in fx.message_ids]
    heavy = fx.heavy_reference
    return [
        Scenario(
            "queue: unassigned",
            Request(["/cases/?tab=unassigned"], cookie=agent),
            Request(["/bench/list/unassigned/"]),
        ),
        Scenario(
            "queue: mine",
            Request(["/cases/?tab=mine"], cookie=agent),
            Request([f"/bench/list/mine/?user={fx.agent_id}"]),
        ),
        Scenario(
            "queue: search by number",
            Request([f"/cases/?tab=all&q={n}" for n in number_q], cookie=agent),
            Request([f"/bench/list/search/?number={n}" for n in number_q]),
        ),
        Scenario(
            "queue: search by message id",
            Request([f"/cases/?tab=all&q={m}" for m in message_q], cookie=agent),
            Request([f"/bench/list/message/?msg_id={m}" for m in message_q]),
        ),
        Scenario(
            "queue: deep page (All, page 200)",
            Request([fx.deep_path], cookie=agent),
            Request([fx.deep_baseline_path]),
            note=fx.deep_note,
        ),
        Scenario(
            "case page",
            Request([f"/cases/{r}/" for r in refs], cookie=lead),
            Request([f"/bench/case/{r}/" for r in refs]),
            note="as a lead, so every case (any state, any assignee) renders its full page",
        ),
        Scenario(
            f"case page, {HEAVY_ITEMS} reports and {HEAVY_ITEMS} notes",
            Request([f"/cases/{heavy}/"], cookie=lead),
            Request([f"/bench/case-full/{heavy}/"]),
            note="baseline: the case, its notes and its reports in three queries, one plain template",
        ),
        Scenario(
            "step submission (htmx POST)",
            Request(
                [f"/cases/{r}/step/" for r in fx.step_pool],
                method="POST",
                body="step",
                cookie=agent,
                htmx=True,
            ),
            Request(
                [f"/bench/step/{r}/" for r in fx.step_pool],
                method="POST",
                body="step",
                cookie=agent,
                htmx=True,
            ),
            note="each request answers C1 of a different new case (pool prepared by the bench)",
        ),
        Scenario(
            "customer tracking page",
            Request([f"/support/t/{t}/" for t in tokens]),
            Request([f"/bench/tracking/{t}/" for t in tokens]),
        ),
        Scenario(
            "lead dashboard",
            Request(["/leads/"], cookie=lead),
            Request(["/bench/dashboard/"]),
            target=DASHBOARD_TARGET,
        ),
        Scenario(
            "callback: one report (form)",
            Request([fx.callback_path], method="POST", body="form"),
            Request(["/bench/insert/"], method="POST", body="form"),
            target=CALLBACK_TARGET,
        ),
        Scenario(
            "callback: 50 reports (JSON)",
            Request([fx.callback_path], method="POST", body="batch"),
            Request(["/bench/insert-batch/"], method="POST", body="batch"),
            target=CALLBACK_TARGET,
        ),
    ]


def _body(kind: str, serial: str) -> tuple[str, str]:
    """The same bodies wrk.lua sends, for the in-process driver: (content type, body)."""
    if kind == "step":
        return "application/x-www-form-urlencoded", "node=report_returned&value=no_report&notes="
    report = {
        "smsMsgId": f"bench-client-{serial}",
        "status": "DELIVRD",
        "total": "1",
        "sequence": "1",
        "source": "2",
        "updateTime": "2026-01-01T08:00:05Z",
        "to": "+8613800138000",
    }
    if kind == "form":
        return "application/x-www-form-urlencoded", "&".join(f"{k}={quote(v)}" for k, v in report.items())
    import json

    items = [{**report, "smsMsgId": f"{report['smsMsgId']}-{i}"} for i in range(50)]
    return "application/json", json.dumps({"statusReportList": items})


def run_client(request: Request, count: int, run_id: str = "") -> Measurement:
    """Replay `count` requests in process with Django's test client (no timing targets, smoke only)."""
    client = Client()
    for part in request.cookie.split("; "):
        if "=" in part:
            name, value = part.split("=", 1)
            client.cookies[name] = value
    headers = {"HX-Request": "true"} if request.htmx else {}
    latencies, queries, errors = [], [], 0
    started = time.perf_counter()
    for n in range(count):
        path = request.paths[n % len(request.paths)]
        t0 = time.perf_counter()
        if request.method == "POST":
            content_type, body = _body(request.body, f"{run_id}-{n}")
            response = client.post(path, body, content_type=content_type, headers=headers)
        else:
            response = client.get(path, headers=headers)
        latencies.append((time.perf_counter() - t0) * 1000)
        errors += not 200 <= response.status_code < 300
        queries.append(int(response.headers.get("X-Query-Count", "0")))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return Measurement(
        requests=count,
        rps=count / elapsed if elapsed else 0.0,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        errors=errors,
        queries_mean=statistics.fmean(queries),
        queries_max=max(queries),
    )
