from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from analytics.forecast_snapshots import take_forecast_snapshot
from core.calendar import today


class Command(BaseCommand):
    help = (
        "Keeps this week's forecast snapshot (each person's month, quarter and year), as the Monday beat task does. "
        "Safe to run twice: the week's rows are replaced."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--on", help="A day of the week to snapshot (YYYY-MM-DD); today when left out.")

    def handle(self, *args, **options) -> None:
        try:
            on = date.fromisoformat(options["on"]) if options["on"] else today()
        except ValueError as error:
            raise CommandError(_("--on: give a date as YYYY-MM-DD.")) from error
        count = take_forecast_snapshot(on=on)
        self.stdout.write(_("Forecast snapshot rows: %(count)s") % {"count": count})
