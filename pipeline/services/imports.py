"""Imports from the browser and the API (issue 14): upload and dry run, confirm, and the run that writes, all or
nothing, with its progress.

A job goes uploaded → checked (or rejected) by the dry run when it is uploaded; confirm sets it queued and, once that
is committed, enqueues the run; the run claims it by compare-and-set (queued → running), imports the file in one
transaction with the kind's importer (pipeline/importing) and ends done (with the counts) or failed (with the rows
that failed: the data may have changed since the dry run). A run of a job that is not queued does nothing, so a
redelivered task has one effect; a job whose claim is older than the task time limit is claimable again (its worker
died and its transaction rolled back).

Progress: the importers report the rows read and checked so far. Those reports come before the writing transaction
opens, but a count saved inside it would be invisible to other connections until it commits, so the live count goes to
the cache (shared by web and workers through Redis; the process's own memory when tasks run eagerly), and `rows_done`
in the row is written when the run ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from core.errors import NotVisible, SalesFlowError, ValidationFailed
from pipeline.importing.common import ImportResult
from pipeline.importing.kinds import KINDS, Kind
from pipeline.importing.reading import ImportRejected, RowError, read_rows
from pipeline.models import ImportJob
from pipeline.selectors.imports import progress_key
from pipeline.services._common import in_actor_language

PROGRESS_TIMEOUT_SECONDS = 24 * 3600
# A confirmed job normally starts within seconds; one still queued this long after its upload is taken for lost from
# the broker (a Redis restarted without persistence) and enqueued again by the catch-up tick.
QUEUED_GRACE = timedelta(minutes=10)
Status = ImportJob.Status


class ImportNotConfirmable(SalesFlowError):
    status = 409
    code = "import_not_confirmable"


def kind_for(user: User, code: str) -> Kind:
    """The import kind `user` may import under `code`; NotVisible (404) for an unknown kind or one they may not."""
    kind = KINDS.get(code)
    if kind is None or not kind.may_import(user):
        raise NotVisible(gettext("No such import."), field="kind")
    return kind


@in_actor_language("uploaded_by")
def upload_import(*, kind: str, file_name: str, content: bytes, uploaded_by: User) -> ImportJob:
    """Stores an uploaded file as an ImportJob and dry-runs it: the job comes back checked, with the counts it would
    write, or rejected, with every bad row and column. Writes nothing but the job; refuses (writing nothing) a kind
    the user may not import and a file over settings.IMPORT_MAX_BYTES."""
    kind_for(uploaded_by, kind)
    limit = settings.IMPORT_MAX_BYTES
    if len(content) > limit:
        raise ValidationFailed(
            gettext("The file is %(size)s; at most %(limit)s can be imported: split it into smaller files.")
            % {"size": filesizeformat(len(content)), "limit": filesizeformat(limit)},
            field="file",
        )
    if not content:
        raise ValidationFailed(gettext("The file is empty."), field="file")
    job = ImportJob.objects.create(
        kind=kind, file_name=Path(file_name).name[:255], content=content, uploaded_by=uploaded_by
    )
    counted: list[int] = [0]
    try:
        result = _import(job, dry_run=True, progress=lambda done: counted.__setitem__(0, done))
    except ImportRejected as rejected:
        return _finish(job, Status.REJECTED, rows=counted[0], errors=rejected.errors)
    return _finish(job, Status.CHECKED, rows=counted[0], result=result)


@in_actor_language("confirmed_by")
@transaction.atomic
def confirm_import(*, job: ImportJob, confirmed_by: User, enqueue: Callable[[int], Any]) -> ImportJob:
    """Queues a checked job for its run and hands its id to `enqueue` once that is committed; a job already queued,
    running or done is left as it is (a repeated confirm is not a second run). Only its uploader confirms it."""
    current = ImportJob.objects.visible_to(confirmed_by).filter(pk=job.pk).first()
    if current is None or current.uploaded_by_id != confirmed_by.pk:
        raise NotVisible(gettext("No such import."))
    kind_for(confirmed_by, current.kind)
    if ImportJob.objects.filter(pk=current.pk, status=Status.CHECKED).update(status=Status.QUEUED, rows_done=0):
        transaction.on_commit(lambda: enqueue(current.pk))
    elif current.status not in (Status.QUEUED, Status.RUNNING, Status.DONE):
        raise ImportNotConfirmable(gettext("Only a checked file without errors can be imported."))
    current.refresh_from_db()
    return current


def stalled_import_ids(*, now) -> list[int]:
    """Ids of the confirmed jobs no worker has: queued since an upload older than QUEUED_GRACE, or running under a
    claim older than the task time limit (its worker died); one query. Enqueuing one twice is harmless: run_import
    claims it once."""
    stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return list(
        ImportJob.objects.claimable(stale_before=stale_before)
        .filter(created_at__lt=now - QUEUED_GRACE)
        .values_list("pk", flat=True)
    )


def run_import(*, job_id: int) -> ImportJob | None:
    """Runs a queued job: imports its file, all or nothing, and ends it done or failed. Returns None, doing nothing,
    when the job is not claimable (done, failed, or running under a live claim), so running it twice has one
    effect."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = ImportJob.objects.filter(pk=job_id).claimable(stale_before=stale_before)
    if not claimed.update(status=Status.RUNNING, started_at=now, rows_done=0):
        return None
    job = ImportJob.objects.select_related("uploaded_by").get(pk=job_id)
    cache.set(progress_key(job.pk), 0, PROGRESS_TIMEOUT_SECONDS)

    def report(done: int) -> None:
        cache.set(progress_key(job.pk), done, PROGRESS_TIMEOUT_SECONDS)

    with translation.override(job.uploaded_by.language or settings.LANGUAGE_CODE):
        if not KINDS[job.kind].may_import(job.uploaded_by):
            refusal = RowError(1, "-", gettext("You may no longer import this kind of file."))
            return _finish(job, Status.FAILED, rows=0, errors=[refusal])
        try:
            result = _import(job, dry_run=False, progress=report)
        except ImportRejected as rejected:
            return _finish(job, Status.FAILED, rows=int(cache.get(progress_key(job.pk), 0)), errors=rejected.errors)
        except Exception:
            refusal = RowError(1, "-", gettext("The import stopped on an unexpected error; nothing was written."))
            _finish(job, Status.FAILED, rows=0, errors=[refusal])
            raise
    return _finish(job, Status.DONE, rows=job.total_rows, result=result)


def _import(job: ImportJob, *, dry_run: bool, progress: Callable[[int], None]) -> ImportResult:
    """Runs the job's importer on its file (written to a temporary file of the same suffix, as read_rows reads)."""
    kind = KINDS[job.kind]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"import{Path(job.file_name).suffix.lower()}"
        path.write_bytes(bytes(job.content))
        rows = read_rows(path, kind.columns)
        return kind.run(rows=rows, dry_run=dry_run, imported_by=job.uploaded_by, progress=progress)


def _finish(
    job: ImportJob,
    status: str,
    *,
    rows: int,
    result: ImportResult | None = None,
    errors: list[RowError] = (),
) -> ImportJob:
    """Saves how a dry run or a run ended: its status, rows, counts and the first MAX_ERRORS errors."""
    job.status = status
    job.rows_done = rows
    if status in (Status.CHECKED, Status.REJECTED):
        job.total_rows = rows
    job.error_count = len(errors)
    job.errors = [_as_json(error) for error in errors[: ImportJob.MAX_ERRORS]]
    if result is not None:
        job.created_count, job.updated_count = result.created, result.updated
        job.unchanged_count, job.reassigned_count = result.unchanged, result.reassigned
        job.warnings = [_as_json(warning) for warning in result.warnings[: ImportJob.MAX_ERRORS]]
    if status in (Status.DONE, Status.FAILED):
        job.finished_at = timezone.now()
    fields = [
        "status",
        "rows_done",
        "total_rows",
        "error_count",
        "errors",
        "created_count",
        "updated_count",
        "unchanged_count",
        "reassigned_count",
        "warnings",
        "finished_at",
    ]
    job.save(update_fields=fields)
    return job


def _as_json(error: RowError) -> dict[str, Any]:
    return {"row": error.row, "column": error.column, "message": str(error.message)}
