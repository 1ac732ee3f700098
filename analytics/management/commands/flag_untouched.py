from django.core.management.base import BaseCommand

from analytics import services


class Command(BaseCommand):
    help = "Flags target accounts with no completed visit in SALESFLOW_UNTOUCHED_DAYS. Safe to run twice."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"untouched target accounts: {services.flag_untouched()}")
