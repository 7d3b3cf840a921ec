"""Send Details imports in the background: the upload is stored, a worker imports it.

The upload request only checks the header (a wrong file is refused at once, nothing
stored), saves the file in the default storage (`MEDIA_ROOT` unless configured
otherwise, which web and workers must share), counts its lines for the progress bar and
queues the task after commit. The worker claims the import with a lease, as the outbox
does with emails: one conditional UPDATE, so only one worker runs an import at a time.
Each stored batch commits together with the import's counters and a renewed lease, so
the page shows real progress, and a worker that is killed leaves an import whose lease
runs out: beat's `dispatch_stale` queues it again, as it queues imports whose task the
broker never took. The new run reads the file from the start; the reports the old one
stored are skipped as already known and counted as imported, not as duplicates.
"""

from __future__ import annotations

import codecs
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import IO

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from diagnosis.cases import matching
from diagnosis.delivery import send_details, send_details_copy
from diagnosis.delivery.stored_sentences import sentence
from diagnosis.models import Case, ImportState, SendDetailsImport
from portal.db_retry import reconnecting
from portal.periodic import once_per_slot
from portal.publish import publish, publish_on_commit

logger = logging.getLogger(__name__)

# How long a worker holds an import without storing a batch; a killed worker's import
# waits this long before another worker takes it over.
LEASE = timedelta(minutes=10)
# An import queued this long ago that no worker took is queued again (a lost task message).
UNCLAIMED_AFTER = timedelta(minutes=1)
# Runs that may end without finishing (worker killed, database gone) before the import is given up.
MAX_ATTEMPTS = 3
# The header must lie within this many bytes; they are also the encoding's first check.
HEAD_BYTES = 1 << 16
CHUNK = 1 << 20
NEWLINE = b"\n"
# The resumed cases listed on the result page.
SHOWN_CASES = 200

# Stored with a failed import in English (the worker has no reader); the page words them in
# the reader's language (stored_sentences.shown). The upload form answers at once, translated.
WRONG_ENCODING_AT_LINE = sentence(
    gettext_noop(
        "The file is not in the chosen encoding (line %(line)s cannot be read); choose the other "
        "encoding and upload it again."
    )
)
# The reason is the codec's own (English) words.
WRONG_ENCODING = sentence(
    gettext_noop(
        "The file is not in the chosen encoding (%(reason)s); choose the other encoding and upload it again."
    )
)
WRONG_ENCODING_AT_END = sentence(
    gettext_noop(
        "The file is not in the chosen encoding (the file ends mid-character); choose the other "
        "encoding and upload it again."
    )
)
STOPPED = sentence(
    gettext_noop(
        "The import stopped %(times)s times before it finished. The reports stored so far are kept; "
        "upload the file again to import the rest."
    )
)
FILE_GONE = gettext_noop("The uploaded file is no longer stored; upload it again.")


class LostClaim(Exception):
    """Another worker took the import over (this one's lease ran out): stop without writing."""


def start_import(upload: UploadedFile, *, encoding: str, timezone_name: str, user: User) -> SendDetailsImport:
    """Check the header, store the file and queue its import; `SendDetailsError` with a plain reason.

    Only the first bytes are read for the check, so a wrong file is refused at once.
    """
    send_details.parse_zone(timezone_name)
    _check_head(upload, encoding)
    lines, last = 0, b"\n"
    for chunk in upload.chunks(CHUNK):
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    upload.seek(0)
    with transaction.atomic():
        job = SendDetailsImport(
            file_name=(upload.name or "send-details.csv")[:255],
            file_size=upload.size or 0,
            encoding=encoding,
            timezone_name=timezone_name,
            uploaded_by=user,
            # Lines after the header; a cell spanning lines makes this an overestimate.
            rows_estimate=max(lines + (last != b"\n") - 1, 0),
        )
        job.file.save("send-details.csv", upload, save=False)
        job.save()
        publish_on_commit(import_task, job.pk)
    return job


def _check_head(upload: UploadedFile, encoding: str) -> None:
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(NEWLINE) + 1
        raise send_details.SendDetailsError(_(WRONG_ENCODING_AT_LINE.msgid) % {"line": line}) from None
    text = head.decode(encoding, errors="replace")
    if "\n" not in text and len(head) == HEAD_BYTES:
        raise send_details.SendDetailsError(_("The file's first line is too long to be a header row."))
    # Blank lines may come before the header: the check reads up to the first row that is not blank.
    send_details.check_header(io.StringIO(text))


# --- The worker's side --------------------------------------------------------------------


@dataclass
class _Claim:
    pk: int
    until: datetime

    def renew(self, *, release: bool = False, **fields: object) -> None:
        """Extend the lease (or end it) and write `fields`; `LostClaim` if another worker holds the import."""
        until = None if release else timezone.now() + LEASE
        if not SendDetailsImport.objects.filter(pk=self.pk, claimed_until=self.until).update(
            claimed_until=until, **fields
        ):
            raise LostClaim
        if until is not None:
            self.until = until


def claim(pk: int) -> tuple[_Claim, SendDetailsImport] | None:
    """Take the import for one run, or None if it is finished, given up or held by a live worker."""
    now = timezone.now()
    until = now + LEASE
    taken = (
        SendDetailsImport.objects.filter(pk=pk, state__in=[ImportState.QUEUED, ImportState.RUNNING])
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(attempts__lt=MAX_ATTEMPTS)
        .update(
            state=ImportState.RUNNING,
            claimed_until=until,
            attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), now),
        )
    )
    if not taken:
        return None
    return _Claim(pk, until), SendDetailsImport.objects.get(pk=pk)


def run(pk: int) -> bool:
    """Import the stored file of import `pk` if this worker can claim it; True if it finished it here."""
    claimed = claim(pk)
    if claimed is None:
        return False
    lease, job = claimed
    batch_lines = settings.SEND_DETAILS_IMPORT_BATCH_LINES
    # What earlier, interrupted runs stored (committed with their batches).
    imported_before, resumed_before = job.imported, list(job.resumed)

    def progress(done: send_details_copy.Progress) -> None:
        lease.renew(
            rows_done=done.rows,
            imported=imported_before + done.imported,
            resumed=_merged(resumed_before, done.resumed),
        )

    try:
        with job.file.open("rb") as handle:
            raw: IO[bytes] = getattr(handle, "file", handle)
            _check_decodes(raw, job.encoding)
            raw.seek(0)
            stream = io.TextIOWrapper(raw, encoding=job.encoding, newline="")
            summary = send_details.import_send_details(
                stream,
                resume=matching.reports_arrived,
                timezone_name=job.timezone_name,
                on_progress=progress,
                lines_per_batch=batch_lines,
                batch_size=min(batch_lines, send_details_copy.ROW_BATCH),
            )
    except LostClaim:
        logger.warning("Send Details import %s was taken over by another worker", pk)
        return False
    except send_details.SendDetailsError as exc:
        return _fail(lease, str(exc))
    except UnicodeDecodeError as exc:
        return _fail(lease, WRONG_ENCODING.english(reason=exc.reason))
    except FileNotFoundError:
        return _fail(lease, FILE_GONE)
    except Exception:
        # Left to the next run (`dispatch_stale`), up to MAX_ATTEMPTS.
        _release(lease)
        raise
    try:
        lease.renew(
            state=ImportState.DONE,
            finished_at=timezone.now(),
            release=True,
            rows_done=summary.rows,
            imported=imported_before + summary.imported,
            duplicates=max(summary.duplicates - imported_before, 0),
            rejected=summary.rejected,
            rejections=[[line, reason] for line, reason in summary.rejections],
            resumed=_merged(resumed_before, summary.resumed),
            error="",
        )
    except LostClaim:
        return False
    _drop_file(pk)
    return True


def _release(lease: _Claim) -> None:
    """End the lease so the next dispatch runs the import again, not only once the lease runs out.

    A dropped connection is what most often ends a run early: the release then takes a new
    one. With the database still out of reach the import waits for its lease to end.
    """
    try:
        reconnecting(
            lambda: SendDetailsImport.objects.filter(pk=lease.pk, claimed_until=lease.until).update(
                claimed_until=None
            )
        )
    except DatabaseError:
        logger.warning("Send Details import %s stays claimed until its lease ends", lease.pk, exc_info=True)


def _merged(before: list[int], now: list[int]) -> list[int]:
    return list(dict.fromkeys([*before, *now]))


def _check_decodes(raw: IO[bytes], encoding: str) -> None:
    """Decode the whole file before storing anything: a bad byte fails the import with its line."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    for chunk in iter(partial(raw.read, CHUNK), b""):
        try:
            line += decoder.decode(chunk).count("\n")
        except UnicodeDecodeError as exc:
            raise send_details.SendDetailsError(
                WRONG_ENCODING_AT_LINE.english(line=line + chunk[: exc.start].count(NEWLINE))
            ) from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise send_details.SendDetailsError(WRONG_ENCODING_AT_END.english()) from None


def _fail(lease: _Claim, error: str) -> bool:
    try:
        lease.renew(state=ImportState.FAILED, finished_at=timezone.now(), release=True, error=error)
    except LostClaim:
        return False
    _drop_file(lease.pk)
    return True


def _drop_file(pk: int) -> None:
    """The upload holds customers' numbers: it goes once the import has ended."""
    job = SendDetailsImport.objects.get(pk=pk)
    if job.file:
        job.file.delete(save=False)
        SendDetailsImport.objects.filter(pk=pk).update(file="")


def dispatch_stale(now: datetime | None = None) -> int:
    """Queue again the imports no live worker holds: never taken, or whose worker died.

    An import that already used its MAX_ATTEMPTS runs is given up with a message instead.
    Returns how many were queued.
    """
    now = now or timezone.now()
    stale = (
        SendDetailsImport.objects.filter(state__in=[ImportState.QUEUED, ImportState.RUNNING])
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(state=ImportState.RUNNING) | Q(created_at__lt=now - UNCLAIMED_AFTER))
    )
    worn = list(stale.filter(attempts__gte=MAX_ATTEMPTS).values_list("pk", flat=True))
    for pk in worn:
        done = SendDetailsImport.objects.filter(
            pk=pk, state__in=[ImportState.QUEUED, ImportState.RUNNING]
        ).update(
            state=ImportState.FAILED,
            finished_at=now,
            claimed_until=None,
            error=STOPPED.english(times=MAX_ATTEMPTS),
        )
        if done:
            _drop_file(pk)
    pending = list(
        stale.filter(attempts__lt=MAX_ATTEMPTS).order_by("created_at").values_list("pk", flat=True)[:20]
    )
    return sum(publish(import_task, pk) for pk in pending)


# --- Reading an import for its page ------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    done: int
    total: int

    @property
    def done_text(self) -> str:
        return f"{self.done:,}"

    @property
    def total_text(self) -> str:
        return f"{self.total:,}"


def progress_bar(job: SendDetailsImport) -> Bar:
    """Rows done out of about how many; the estimate grows when the import passes it."""
    return Bar(job.rows_done, max(job.rows_estimate, job.rows_done, 1))


def resumed_cases(job: SendDetailsImport) -> list[Case]:
    """The cases the import resumed, for links: the first SHOWN_CASES, one query."""
    ids = job.resumed[:SHOWN_CASES]
    return list(Case.objects.filter(pk__in=ids).only("pk", "reference").order_by("pk"))


def recent(limit: int = 10) -> list[SendDetailsImport]:
    return list(SendDetailsImport.objects.select_related("uploaded_by").defer("rejections")[:limit])


# --- Tasks ------------------------------------------------------------------------------------


@shared_task(name="diagnosis.import_send_details", ignore_result=True)
def import_task(pk: int) -> None:
    run(pk)


@shared_task(name="diagnosis.dispatch_send_details_imports", ignore_result=True)
@once_per_slot("dispatch-send-details-imports")
def dispatch_stale_task() -> None:
    """Beat: imports whose task was lost or whose worker died."""
    dispatch_stale()
