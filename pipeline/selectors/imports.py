"""What the import pages and the API show (issue 14): the viewer's recent imports and a job's progress."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from accounts.models import User
from pipeline.models import ImportJob

RECENT_IMPORTS = 20  # jobs listed on the imports page


def progress_key(job_id: int) -> str:
    """The cache key of a running job's live count of rows read and checked (pipeline/services/imports.py)."""
    return f"import-job:{job_id}:rows-done"


@dataclass(frozen=True)
class ImportProgress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


def import_progress(job: ImportJob) -> ImportProgress:
    """A job's rows done out of its rows: the cache's live count while it runs, else the saved one; no query."""
    done = job.rows_done
    if job.status == ImportJob.Status.RUNNING:
        done = int(cache.get(progress_key(job.pk), done))
    return ImportProgress(done=done, total=job.total_rows)


def recent_imports(*, viewer: User) -> list[ImportJob]:
    """The newest RECENT_IMPORTS imports the viewer can see, with their uploader, without the files; one query."""
    jobs = ImportJob.objects.visible_to(viewer).select_related("uploaded_by").defer("content")
    return list(jobs.order_by("-created_at", "-id")[:RECENT_IMPORTS])
