from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from analytics import rollups, services


class Command(BaseCommand):
    help = (
        "Computes the CV/PV matrix of --year; without --year, the nightly run: the matrices of this and last year, "
        "untouched target accounts, stale opportunities and the company-wide sums (months that are over, today's "
        "territory). Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="only the CV/PV matrix of this year")

    def handle(self, *args, year: int | None = None, **options) -> None:
        if year is not None:
            run = services.compute_matrix(year=year)
            self.stdout.write(_("CV/PV %(year)s: %(count)s accounts") % {"year": year, "count": run.values.count()})
            return
        for matrix_year in services.nightly_matrix_years():
            run = services.compute_matrix(year=matrix_year)
            self.stdout.write(
                _("CV/PV %(year)s: %(count)s accounts") % {"year": matrix_year, "count": run.values.count()}
            )
        self.stdout.write(_("Untouched target accounts: %(count)s") % {"count": services.flag_untouched()})
        self.stdout.write(_("Stale opportunities: %(count)s") % {"count": services.flag_stale()})
        months, dimensions = rollups.roll_up()
        self.stdout.write(
            _("Company-wide sums: %(months)s months, %(dimensions)s territory tables")
            % {"months": months, "dimensions": dimensions}
        )
