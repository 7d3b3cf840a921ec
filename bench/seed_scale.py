"""Production-sized data for benchmarks; run it as `python -m bench.seed --cases N --reports M [--reset]`.

Writes realistic cases (every state and outcome of the guide, with consistent answer
paths, events, recipients, messages and escalations) and status reports with the real
code mix, straight into PostgreSQL with `COPY`. Secondary indexes and unique/foreign-key
constraints of the seeded tables are dropped first and rebuilt once at the end, because
building an index once is far cheaper than maintaining it row by row; everything runs
in one transaction, so a failed run leaves the database as it was. PostgreSQL only.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers
import phonenumbers.carrier  # a submodule: `import phonenumbers` alone does not load it
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from phonenumbers import PhoneNumberType

from diagnosis.cases import waiting
from diagnosis.guide import WAIT_REPORT, Answer, Guide, Kind, Node, Result, get_guide
from diagnosis.models import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    REFERENCE_PREFIX,
    AnswerRecord,
    Case,
    Escalation,
    Event,
    Message,
    Recipient,
    StatusCode,
    StatusReport,
    TrackingLink,
    token_digest,
    wait_deadline_after,
)
from portal import roles

# Tables this command writes, parents first (the order of COPY).
SEEDED = (Case, TrackingLink, Recipient, Message, AnswerRecord, Event, Escalation, StatusReport)
# Tables emptied by --reset besides the seeded ones (they point at cases).
RESET_ALSO = ("diagnosis_outboundemail", "diagnosis_staffnotification")
AGENTS = 30
LEADS = 3
BENCH_AGENT = "bench-agent"
BENCH_LEAD = "bench-lead"
# Share of cases per state; waiting is generous so the sweep bench finds 100,000 due cases at 1M.
STATE_MIX = {"new": 6, "in_progress": 8, "waiting": 12, "escalated": 4, "resolved": 30, "closed": 40}
# The delivery-report mix by catalogue branch (most messages are delivered).
BRANCH_MIX = {
    "delivered": 820,
    "timeout": 40,
    "number_invalid": 60,
    "carrier_block": 30,
    "frequency_limit": 15,
    "unknown": 20,
    "not_supported": 5,
    "request_error": 10,
}
REGIONS = [
    "CN",
    "CN",
    "CN",
    "CN",
    "CN",
    "DE",
    "DE",
    "GB",
    "GB",
    "US",
    "US",
    "IN",
    "IN",
    "BR",
    "BR",
    "NG",
    "NG",
    "ID",
    "ID",
    "FR",
    "IT",
    "ES",
    "MX",
    "PH",
    "VN",
    "TH",
    "MY",
    "SG",
    "AE",
    "SA",
    "EG",
    "ZA",
    "KE",
    "TR",
    "PL",
    "NL",
    "SE",
    "JP",
    "KR",
    "AU",
    "CA",
    "AR",
    "CO",
    "CL",
    "PE",
    "PK",
    "BD",
    "RU",
    "UA",
]
FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Femi",
    "Gita",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mei",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
]
LAST_NAMES = [
    "Adeyemi",
    "Bauer",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Huang",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Müller",
    "Nguyen",
    "Okafor",
]


class _Clock:
    """Timestamps as COPY text, cached per minute: formatting is the hot spot of 10M rows."""

    def __init__(self) -> None:
        self._minutes: dict[int, str] = {}

    def __call__(self, epoch: float) -> str:
        whole = int(epoch)
        minute, second = divmod(whole, 60)
        prefix = self._minutes.get(minute)
        if prefix is None:
            prefix = self._minutes[minute] = datetime.fromtimestamp(minute * 60, UTC).strftime(
                "%Y-%m-%d %H:%M:"
            )
        return f"{prefix}{second:02d}+00"


def msg_id(serial: int, bits: int) -> str:
    """A message id in the platform's shape: a version-4 UUID, underscore, a serial number."""
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}_{serial}"


def reference_for(case_id: int) -> str:
    """A unique reference per id: a bijection of the id onto the reference space, no retries."""
    space = len(REFERENCE_ALPHABET) ** REFERENCE_LENGTH
    n = (case_id * 387_420_489 + 12_345) % space  # 3**18 is coprime with 30**6
    chars = []
    for _ in range(REFERENCE_LENGTH):
        n, digit = divmod(n, len(REFERENCE_ALPHABET))
        chars.append(REFERENCE_ALPHABET[digit])
    return REFERENCE_PREFIX + "".join(chars)


@dataclass(frozen=True)
class Situation:
    """Where a case can stand: its live answers (node, answer) and its current node."""

    state: str
    steps: tuple[tuple[Node, Answer], ...]
    node: Node


def situations(guide: Guide) -> dict[str, list[Situation]]:
    """Every consistent place a case can be in, per state, from walking the guide graph."""
    found: dict[str, dict[tuple[str, ...], Situation]] = {state: {} for state in STATE_MIX}

    def add(state: str, steps: tuple[tuple[Node, Answer], ...], node: Node) -> None:
        key = (*(f"{n.id}={a.value}" for n, a in steps), node.id)
        found[state].setdefault(key, Situation(state, steps, node))

    def walk(node: Node, steps: tuple[tuple[Node, Answer], ...]) -> None:
        if node.kind is Kind.OUTCOME:
            state = "escalated" if node.result is Result.ESCALATED else "resolved"
            add(state, steps, node)
            add("closed", steps, node)
            return
        if node.kind is Kind.WAIT:
            add("waiting", steps, node)
        elif steps:
            add("in_progress", steps, node)
        else:
            add("new", steps, node)
        for answer in node.answers:
            walk(guide[answer.next], (*steps, (node, answer)))

    walk(guide[guide.start], ())
    return {state: list(items.values()) for state, items in found.items()}


class Numbers:
    """Plausible numbers from many countries: each region's example mobile number, new last digits."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.regions: list[tuple[str, str, str]] = []  # (region, E.164 stem, carrier)
        for region in REGIONS:
            example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            name = phonenumbers.carrier.name_for_number(example, "en")
            self.regions.append((region, e164[:-5], name))

    def pick(self) -> tuple[str, str, str]:
        region, stem, name = self.rng.choice(self.regions)
        return f"{stem}{self.rng.randrange(100_000):05d}", region, name


class Codes:
    """Status codes drawn with the real mix, from the `StatusCode` catalogue rows."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        by_branch: dict[str, list[str]] = {}
        for code, match, branch, final in StatusCode.objects.values_list("code", "match", "branch", "final"):
            if not final:
                continue
            if match == StatusCode.Match.PREFIX:
                code = f"{code}{rng.randrange(10_000):04d}"
            by_branch.setdefault(branch, []).append(code)
        if "delivered" not in by_branch:
            raise SeedError("The StatusCode catalogue is empty: run `manage.py migrate` first.")
        self.by_branch = by_branch
        table = []
        for branch, weight in BRANCH_MIX.items():
            codes = by_branch.get(branch) or by_branch["unknown"]
            # DELIVRD dominates its branch; other branches spread over their codes.
            table += [codes[i % len(codes)] for i in range(weight)]
        self.table = table

    def any_final(self) -> str:
        return self.table[int(self.rng.random() * len(self.table))]

    def for_branches(self, branches: tuple[str, ...]) -> str:
        codes = [c for b in branches for c in self.by_branch.get(b, ())]
        return self.rng.choice(codes) if codes else self.any_final()


class SeedError(Exception):
    """The seed cannot run as asked; the message says why."""


def seed(
    *,
    cases: int,
    reports: int,
    reset: bool = False,
    rng_seed: int = 8,
    say: Any = print,
    verbose: bool = False,
) -> None:
    """Write `cases` cases and `reports` status reports into PostgreSQL (see the module docstring)."""
    if connection.vendor != "postgresql":
        raise SeedError(
            f"seed_scale needs PostgreSQL (COPY); this database is {connection.vendor}. "
            "Set DATABASE_URL=postgres://..."
        )
    if cases < 1 or reports < 0:
        raise SeedError("--cases must be at least 1 and --reports at least 0.")
    started = time.monotonic()
    staff = ensure_staff()
    seeder = Seeder(random.Random(rng_seed), staff, say)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        if reset:
            tables = ", ".join([m._meta.db_table for m in SEEDED] + list(RESET_ALSO))
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        deferred = defer_indexes(cursor)
        say(f"Dropped {len(deferred)} indexes and constraints until the load is done")
        seeder.load(cursor, cases, reports, freeze=reset)
        rebuild = time.monotonic()
        for statement in deferred:
            cursor.execute(statement)
            if verbose:
                say(f"Rebuilt: {statement}")
        say(f"Rebuilt indexes and constraints: {time.monotonic() - rebuild:.0f} s")
        for model in SEEDED:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    with connection.cursor() as cursor:
        for model in SEEDED:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    say(f"Seeded {cases:,} cases and {reports:,} reports in {time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=10_000_000)
    parser.add_argument("--reset", action="store_true", help="Empty the seeded tables first.")
    parser.add_argument("--seed", type=int, default=8, help="Random seed, for repeatable data.")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        seed(
            cases=args.cases, reports=args.reports, reset=args.reset, rng_seed=args.seed, verbose=args.verbose
        )
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def ensure_staff() -> list[User]:
    """Agents (the first is `bench-agent`) and leads; cases are spread over the agents."""
    groups = roles.ensure_role_groups()
    user_model = get_user_model()
    agents = []
    for index in range(AGENTS + LEADS):
        lead = index >= AGENTS
        name = BENCH_LEAD if index == AGENTS else BENCH_AGENT if index == 0 else f"agent{index:02d}"
        if lead and index > AGENTS:
            name = f"lead{index - AGENTS:02d}"
        user, created = user_model.objects.get_or_create(
            username=name, defaults={"first_name": name.title(), "email": f"{name}@example.com"}
        )
        if created:
            user.set_unusable_password()
            user.save()
        group: Group = groups[roles.LEADS_GROUP if lead else roles.AGENTS_GROUP]
        user.groups.add(group)
        if not lead:
            agents.append(user)
    return agents


def defer_indexes(cursor: Any) -> list[str]:
    """Drop secondary indexes, unique and foreign-key constraints of the seeded tables.

    Returns the statements that recreate them (constraints after plain indexes, so a
    foreign key finds its referenced key). Primary keys and check constraints stay.
    """
    tables = [m._meta.db_table for m in SEEDED]
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c
        WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('u', 'f')
        ORDER BY c.contype DESC
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    # Foreign keys first (they depend on unique keys), then the unique keys, then plain indexes.
    for table, name, _, _kind in sorted(constraints, key=lambda row: row[3] != "f"):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    recreate = [definition for _, definition in indexes]
    recreate += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition, kind in sorted(constraints, key=lambda row: row[3] == "f")
    ]
    return recreate


class Seeder:
    """Generates the rows; one instance per run."""

    def __init__(self, rng: random.Random, agents: list[User], say: Any) -> None:
        self.rng = rng
        self.say = say
        self.agent_ids = [a.pk for a in agents]
        self.guide = get_guide()
        self.places = situations(self.guide)
        self.numbers = Numbers(rng)
        self.codes = Codes(rng)
        self.clock = _Clock()
        self.now = time.time()
        start = datetime.fromtimestamp(self.now, UTC)
        # Seconds from sending to the wait's deadline, as the models reckon it.
        self.wait_limit = (wait_deadline_after(start) - start).total_seconds()
        self.state_table = [state for state, weight in STATE_MIX.items() for _ in range(weight)]
        self.msg_serial = 0
        # Filled while writing cases, read while writing reports: (msg id, number, final code, sent, waiting).
        self.case_messages: list[tuple[str, str, str, float, bool]] = []

    def _next_ids(self, cursor: Any) -> dict[str, int]:
        ids = {}
        for model in SEEDED:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
            ids[model._meta.db_table] = cursor.fetchone()[0]
        return ids

    def load(self, cursor: Any, cases: int, reports: int, *, freeze: bool) -> None:
        ids = self._next_ids(cursor)
        cursor.execute("SELECT reference FROM diagnosis_case")
        taken = {row[0] for row in cursor.fetchall()}
        started = time.monotonic()
        rows = CaseRows(self, ids, taken)
        with_freeze = " WITH (FREEZE)" if freeze else ""
        self._copy_many(cursor, rows, cases, with_freeze)
        self.say(f"Cases and their rows: {time.monotonic() - started:.0f} s")
        started = time.monotonic()
        columns = (
            "id, msg_id, status, status_desc, total, sequence, origin, updated_at, extend, to_number, "
            "org_code, channel, raw, received_at, dedupe_key, matched_at"
        )
        with cursor.copy(f"COPY diagnosis_statusreport ({columns}) FROM STDIN{with_freeze}") as copy:
            for chunk in self._report_chunks(ids["diagnosis_statusreport"], reports):
                copy.write(chunk)
        self.say(f"{reports:,} reports: {time.monotonic() - started:.0f} s")

    def _copy_many(self, cursor: Any, rows: CaseRows, cases: int, with_freeze: str) -> None:
        """Case-side tables, written in case-id batches through one COPY stream per table and batch."""
        batch = 50_000
        for start in range(0, cases, batch):
            buffers = rows.batch(min(batch, cases - start))
            for table, (columns, lines) in buffers.items():
                if not lines:
                    continue
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN{with_freeze}") as copy:
                    copy.write("".join(lines))
            self.say(
                f"  cases {start + batch:,}/{cases:,}" if start + batch < cases else f"  cases {cases:,}"
            )

    def _report_chunks(self, first_id: int, total: int) -> Iterator[str]:
        """Reports for the cases' messages first (consistent with each case), then background traffic."""
        rng, clock, codes = self.rng, self.clock, self.codes
        getrandbits, rand = rng.getrandbits, rng.random
        report_id = first_id
        lines: list[str] = []
        written = 0

        def line(mid: str, status: str, number: str, sent: float, seq_delay: float) -> str:
            nonlocal report_id
            updated = sent + seq_delay
            stamp = clock(updated)
            key_stamp = f"{stamp[0:4]}{stamp[5:7]}{stamp[8:10]}T{stamp[11:13]}{stamp[14:16]}{stamp[17:19]}Z"
            origin = "2" if status != "EXPIRED" else "1"
            to = f', "to": "{number}"' if number else ""
            when = f"{stamp[:10]}T{stamp[11:19]}Z"
            raw = f'{{"smsMsgId": "{mid}", "status": "{status}", "updateTime": "{when}"{to}}}'
            received = clock(updated + 1 + rand() * 30)
            # History the matcher has long been through: the unmatched set stays as small as in production.
            text = (
                f"{report_id}\t{mid}\t{status}\t\t1\t1\t{origin}\t{stamp}\t\t{number}\t\tcallback\t{raw}\t"
                f"{received}\t{mid}|1|{status}|{key_stamp}\t{received}\n"
            )
            report_id += 1
            return text

        for mid, number, final, sent, is_waiting in self.case_messages:
            if written >= total:
                break
            lines.append(line(mid, "ACCEPTD", number, sent, 2 + rand() * 5))
            written += 1
            if not is_waiting and written < total:
                lines.append(line(mid, final, number, sent, 10 + rand() * 600))
                written += 1
            if len(lines) >= 20_000:
                yield "".join(lines)
                lines = []
        self.case_messages = []
        year = 365 * 86400
        numbers = [self.numbers.pick()[0] for _ in range(50_000)]
        while written < total:
            self.msg_serial += 1
            mid = msg_id(self.msg_serial, getrandbits(128))
            sent = self.now - rand() * year
            number = numbers[int(rand() * len(numbers))] if rand() < 0.6 else ""
            if rand() < 0.25 and written + 1 < total:
                lines.append(line(mid, "ACCEPTD", number, sent, 2 + rand() * 5))
                written += 1
            lines.append(line(mid, codes.any_final(), number, sent, 5 + rand() * 120))
            written += 1
            if len(lines) >= 20_000:
                yield "".join(lines)
                lines = []
        if lines:
            yield "".join(lines)


def bench_tracking_token(case_id: int) -> str:
    """A seeded case's tracking token, derived from its id: the database keeps only the hash,
    and the benchmarks need tokens to open tracking pages with. Seeded data only, never real."""
    return "bench-" + hashlib.sha256(f"bench tracking link {case_id}".encode()).hexdigest()[:37]


class CaseRows:
    """Rows for cases and everything hanging off them, in COPY text format."""

    TABLES = {
        "diagnosis_case": (
            "id, reference, reporter_name, reporter_email, sent_at, sender, template_id, "
            "description, customer_answers, screenshot, state, assigned_to_id, guide_version, current_node, "
            "outcome, cause, revision, waiting_since, wait_deadline, next_poll_at, created_at, updated_at, "
            "resolved_at"
        ),
        "diagnosis_trackinglink": "id, case_id, token_hash, created_at",
        "diagnosis_recipient": "id, case_id, e164, region, number_type, carrier",
        "diagnosis_message": "id, case_id, msg_id, recipient_id",
        "diagnosis_answerrecord": (
            "id, case_id, node, value, evidence, notes, answered_by_id, answered_at, superseded_at"
        ),
        "diagnosis_event": "id, case_id, kind, actor_id, at, summary, data",
        "diagnosis_escalation": (
            "id, case_id, reason, package, opened_by_id, opened_at, sent_at, sent_to, provider_reference, "
            "provider_answer, closed_at"
        ),
    }

    def __init__(self, seeder: Seeder, ids: dict[str, int], taken: set[str]) -> None:
        self.s = seeder
        self.ids = ids
        self.taken = taken
        self.version = seeder.guide.version

    def _id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def batch(self, count: int) -> dict[str, tuple[str, list[str]]]:
        out: dict[str, tuple[str, list[str]]] = {table: (cols, []) for table, cols in self.TABLES.items()}
        for _ in range(count):
            self._case(out)
        return out

    def _case(self, out: dict[str, tuple[str, list[str]]]) -> None:
        s, rng, clock = self.s, self.s.rng, self.s.clock
        case_id = self._id("diagnosis_case")
        reference = reference_for(case_id)
        if reference in self.taken:
            return
        state = s.state_table[int(rng.random() * len(s.state_table))]
        place = rng.choice(s.places[state])
        open_case = state in ("new", "in_progress", "waiting")
        age = rng.random() * (14 if open_case else 720) * 86400
        created = s.now - age
        sent = created - rng.random() * 3 * 86400
        if state == "waiting":
            # Sent within the wait limit (the sweep escalates anything older); filed soon after.
            sent = s.now - rng.random() * (s.wait_limit - 3600)
            created = sent + rng.random() * min(3600.0, s.now - sent)
        assignee = "\\N"
        if state != "new" and (not open_case or rng.random() < 0.7):
            assignee = str(s.agent_ids[int(rng.random() * len(s.agent_ids))])
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first.lower()}.{last.lower()}{case_id}@example.com"

        # Recipients and messages: most cases are about one number and one message.
        recipients: list[tuple[int, str]] = []
        for _ in range(1 if rng.random() < 0.8 else rng.randint(2, 3)):
            number, region, carrier = s.numbers.pick()
            if any(number == r[1] for r in recipients):
                continue
            rid = self._id("diagnosis_recipient")
            recipients.append((rid, number))
            out["diagnosis_recipient"][1].append(
                f"{rid}\t{case_id}\t{number}\t{region}\tmobile\t{carrier.replace(chr(9), ' ')}\n"
            )
        final = self._final_code(place)
        for index in range(1 if rng.random() < 0.85 else rng.randint(2, 3)):
            rid, number = recipients[index % len(recipients)]
            s.msg_serial += 1
            mid = msg_id(s.msg_serial, rng.getrandbits(128))
            out["diagnosis_message"][1].append(f"{self._id('diagnosis_message')}\t{case_id}\t{mid}\t{rid}\n")
            s.case_messages.append((mid, number, final, sent, state == "waiting"))

        # Answers and events along the path, spaced over the case's life so far.
        events = out["diagnosis_event"][1]
        answers = out["diagnosis_answerrecord"][1]
        at = created
        events.append(
            f"{self._id('diagnosis_event')}\t{case_id}\tcreated\t\\N\t{clock(at)}\tCase opened\t{{}}\n"
        )
        span = (s.now - created) / (len(place.steps) + 2)
        for node, answer in place.steps:
            at += rng.random() * span
            system = node.kind is Kind.WAIT
            actor = "\\N" if system or assignee == "\\N" else assignee
            reported = (node.evidence and answer.value != "no_report") or answer.value == WAIT_REPORT
            evidence = final if reported else ""
            answers.append(
                f"{self._id('diagnosis_answerrecord')}\t{case_id}\t{node.id}\t{answer.value}\t{evidence}\t\t"
                f"{actor}\t{clock(at)}\t\\N\n"
            )
            kind = "wait_ended" if system else "answered"
            summary = f"{node.ref} {node.title} → {answer.label}"[:300].replace("\t", " ")
            events.append(
                f"{self._id('diagnosis_event')}\t{case_id}\t{kind}\t{actor}\t{clock(at)}\t{summary}\t"
                f'{{"node": "{node.id}", "value": "{answer.value}", "evidence": "{evidence}"}}\n'
            )
        if rng.random() < 0.3:
            at += rng.random() * span
            events.append(
                f"{self._id('diagnosis_event')}\t{case_id}\tcustomer_message\t\\N\t{clock(at)}\t"
                f'Message from the customer\t{{"text": "Any news on my message?"}}\n'
            )

        waiting_since = deadline = next_poll = resolved = "\\N"
        outcome = cause = ""
        if state == "waiting":
            since = created + rng.random() * (s.now - created)
            limit = sent + s.wait_limit
            after = s.now + (rng.random() * 3 - 2) * 3600  # next checks spread around now
            poll = waiting.next_poll_at(
                datetime.fromtimestamp(since, UTC),
                datetime.fromtimestamp(limit, UTC),
                datetime.fromtimestamp(after, UTC),
            )
            waiting_since, deadline = clock(since), clock(limit)
            next_poll = clock(poll.timestamp() if poll else limit)
            events.append(
                f"{self._id('diagnosis_event')}\t{case_id}\twait_started\t\\N\t{waiting_since}\t"
                f"Waiting for a status report\t{{}}\n"
            )
        elif place.node.kind is Kind.OUTCOME:
            outcome, cause = place.node.id, place.node.cause
            at += rng.random() * span
            resolved = clock(at)
            events.append(
                f"{self._id('diagnosis_event')}\t{case_id}\toutcome\t\\N\t{resolved}\t"
                f'Outcome: {place.node.title}\t{{"outcome": "{outcome}"}}\n'
            )
            if place.node.result is Result.ESCALATED:
                closed = clock(at + 86400 * (1 + rng.random() * 5)) if state == "closed" else "\\N"
                out["diagnosis_escalation"][1].append(
                    f"{self._id('diagnosis_escalation')}\t{case_id}\t{cause}\t"
                    f'{{"case": "{reference}"}}\t{assignee}\t{resolved}\t{resolved}\t'
                    f"sms-provider-support@example.com\t\t\t{closed}\n"
                )
        updated = clock(max(at, created))
        out["diagnosis_trackinglink"][1].append(
            f"{self._id('diagnosis_trackinglink')}\t{case_id}\t{token_digest(bench_tracking_token(case_id))}\t"
            f"{clock(created)}\n"
        )
        out["diagnosis_case"][1].append(
            f"{case_id}\t{reference}\t{first} {last}\t{email}\t{clock(sent)}\tcsms12345678\t"
            f"tpl-{case_id % 40}\tThe code did not arrive.\t{{}}\t\t{state}\t{assignee}\t{self.version}\t"
            f"{place.node.id}\t{outcome}\t{cause}\t{len(place.steps) + 1}\t{waiting_since}\t{deadline}\t"
            f"{next_poll}\t{clock(created)}\t{updated}\t{resolved}\n"
        )

    def _final_code(self, place: Situation) -> str:
        """The delivery status the case's path implies: the code behind its C3 answer, if any."""
        for _node, answer in place.steps:
            if answer.branches:
                return self.s.codes.for_branches(answer.branches)
        if any(node.kind is Kind.WAIT for node, _ in place.steps) or place.node.kind is Kind.WAIT:
            return "DELIVRD"
        return self.s.codes.any_final()
