"""The import resources (issue 14): `POST /api/v1/imports/` (multipart: `kind`, `file`) stores the file and answers its
dry run; `GET` lists and shows jobs with their progress; `POST /api/v1/imports/{id}/confirm/` queues the run.

Directors import every kind, managers targets; anyone else may list (nothing) but not upload (404 on a kind they may
not import, as on the pages).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api import IdempotentPostMixin, LocalizedViewMixin, Pagination
from pipeline.importing.kinds import KINDS
from pipeline.models import ImportJob
from pipeline.selectors.imports import import_progress
from pipeline.services.imports import confirm_import, upload_import
from pipeline.tasks import run_import_task


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number in the spreadsheet (the header is row 1).")
    column = serializers.CharField(help_text="Canonical column name, or - for the whole file.")
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    rows_done = serializers.SerializerMethodField(help_text="Rows read and checked so far (live while running).")
    created = serializers.IntegerField(source="created_count", read_only=True)
    updated = serializers.IntegerField(source="updated_count", read_only=True)
    unchanged = serializers.IntegerField(source="unchanged_count", read_only=True)
    reassigned = serializers.IntegerField(source="reassigned_count", read_only=True)
    errors = ImportErrorSerializer(many=True, read_only=True, help_text="The first 200 errors; error_count: all.")
    warnings = ImportErrorSerializer(many=True, read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "uploaded_by",
            "status",
            "total_rows",
            "rows_done",
            "created",
            "updated",
            "unchanged",
            "reassigned",
            "error_count",
            "errors",
            "warnings",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_rows_done(self, job: ImportJob) -> int:
        return import_progress(job).done


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS))
    file = serializers.FileField(help_text="A .csv (UTF-8 or GBK) or .xlsx file, headers in English or Chinese.")


@extend_schema_view(
    list=extend_schema(summary="List the imports you can see, newest first"),
    retrieve=extend_schema(summary="An import: its dry run, progress and report"),
)
class ImportJobViewSet(
    LocalizedViewMixin, IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Imports of accounts, contacts, installed base, yearly figures and targets from CSV or XLSX files, all or
    nothing and keyed so that a re-import changes nothing. Upload answers the dry run (status `checked` with the
    counts it would write, or `rejected` with every bad row and column); confirm queues the run, whose progress
    (`rows_done` of `total_rows`) and report (`done` or `failed`) the job then shows."""

    serializer_class = ImportJobSerializer
    pagination_class = Pagination
    parser_classes = (MultiPartParser, FormParser)

    def get_queryset(self):
        return (
            ImportJob.objects.visible_to(self.request.user)
            .select_related("uploaded_by")
            .defer("content")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        summary="Upload a file and dry-run it",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        job = upload_import(
            kind=upload.validated_data["kind"],
            file_name=file.name,
            content=file.read(settings.IMPORT_MAX_BYTES + 1),
            uploaded_by=request.user,
        )
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm a checked import: queue its run", request=None, responses={202: ImportJobSerializer}
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        job = confirm_import(job=self.get_object(), confirmed_by=request.user, enqueue=run_import_task.delay)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
