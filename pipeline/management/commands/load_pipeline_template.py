"""manage.py load_pipeline_template NAME — installs one of the shipped sales processes; safe to run twice."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from pipeline.models import Pipeline, Stage, StageCriterion
from pipeline.process_templates import TEMPLATES, install_pipeline


class Command(BaseCommand):
    help = "Creates or updates a shipped sales process (its stages and exit criteria) by template name."

    def add_arguments(self, parser):
        parser.add_argument("name", help=f"one of: {', '.join(sorted(TEMPLATES))}")

    def handle(self, *args, name: str, **options):
        template = TEMPLATES.get(name)
        if template is None:
            raise CommandError(
                gettext("Unknown template %(name)s; valid names: %(names)s.")
                % {"name": name, "names": ", ".join(sorted(TEMPLATES))}
            )
        pipeline = install_pipeline(
            template, pipeline_model=Pipeline, stage_model=Stage, criterion_model=StageCriterion
        )
        self.stdout.write(
            gettext("Loaded %(pipeline)s: %(stages)d stages, %(criteria)d exit criteria.")
            % {
                "pipeline": pipeline.code,
                "stages": pipeline.stages.count(),
                "criteria": StageCriterion.objects.filter(stage__pipeline=pipeline).count(),
            }
        )
