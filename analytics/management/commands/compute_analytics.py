from django.core.management.base import BaseCommand, CommandParser

from analytics import services


class Command(BaseCommand):
    help = (
        "Computes the CV/PV matrix of --year; without --year, the nightly run: the matrices of this and last year, "
        "untouched target accounts and stale opportunities. Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="only the CV/PV matrix of this year")

    def handle(self, *args, year: int | None = None, **options) -> None:
        if year is not None:
            run = services.compute_matrix(year=year)
            self.stdout.write(f"CV/PV {year}: {run.values.count()} accounts")
            return
        for matrix_year in services.nightly_matrix_years():
            run = services.compute_matrix(year=matrix_year)
            self.stdout.write(f"CV/PV {matrix_year}: {run.values.count()} accounts")
        self.stdout.write(f"untouched target accounts: {services.flag_untouched()}")
        self.stdout.write(f"stale opportunities: {services.flag_stale()}")
