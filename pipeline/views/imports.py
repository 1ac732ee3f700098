"""Import pages (issue 14): choose a kind, download its template, upload a file and see its dry run, confirm, and
watch the run's progress (htmx polls a partial every second) until its report.

Directors import every kind, managers targets (pipeline/importing/kinds.py); anyone else gets 404. A job is seen by
those its uploader's visibility allows; only the uploader confirms it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import NotVisible, SalesFlowError
from pipeline.forms.imports import ImportUploadForm
from pipeline.importing.kinds import KINDS, kinds_for
from pipeline.importing.workbook import template_workbook
from pipeline.models import ImportJob
from pipeline.selectors.imports import import_progress, recent_imports
from pipeline.services.imports import confirm_import, upload_import
from pipeline.tasks import run_import_task

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _check_may_import(request: HttpRequest) -> None:
    if not kinds_for(request.user):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """The kinds with their templates, the upload form, and the viewer's recent imports; an upload is dry-run at
    once and shows its job page."""
    _check_may_import(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = upload_import(
                kind=form.cleaned_data["kind"],
                file_name=upload.name,
                content=upload.read(settings.IMPORT_MAX_BYTES + 1),  # enough to know it is too large
                uploaded_by=request.user,
            )
        except SalesFlowError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            return redirect(job)
    context = {"form": form, "kinds": kinds_for(request.user), "jobs": recent_imports(viewer=request.user)}
    return render(request, "pipeline/imports.html", context, status=400 if form.errors else 200)


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """The kind's XLSX template, headers in the viewer's language."""
    found = KINDS.get(kind)
    if found is None or not found.may_import(request.user):
        raise Http404
    response = HttpResponse(template_workbook(found), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="salesflow-{found.code}.xlsx"'
    return response


def _job(request: HttpRequest, pk: int) -> ImportJob:
    _check_may_import(request)
    return get_object_or_404(
        ImportJob.objects.visible_to(request.user).select_related("uploaded_by").defer("content"), pk=pk
    )


@login_required
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A job: its dry run (counts, or every bad row and column) with the confirm button, its progress while it runs,
    its report when it ends."""
    job = _job(request, pk)
    context = {"job": job, "progress": import_progress(job), "may_confirm": job.uploaded_by_id == request.user.pk}
    return render(request, "pipeline/import_job.html", context)


@login_required
def import_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's status region, which the page polls every second while the job is queued or running."""
    job = _job(request, pk)
    context = {"job": job, "progress": import_progress(job), "may_confirm": job.uploaded_by_id == request.user.pk}
    return render(request, "pipeline/import_job.html#status", context)


@login_required
@require_POST
def import_job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Queues the checked job for its run and shows its page, which follows the run's progress."""
    job = _job(request, pk)
    try:
        confirm_import(job=job, confirmed_by=request.user, enqueue=run_import_task.delay)
    except NotVisible:
        raise Http404 from None
    except SalesFlowError:
        pass  # the page says why the job cannot be imported
    return redirect(job)
