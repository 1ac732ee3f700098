from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from analytics import services


class Command(BaseCommand):
    help = "Flags target accounts with no completed visit in SALESFLOW_UNTOUCHED_DAYS. Safe to run twice."

    def handle(self, *args, **options) -> None:
        self.stdout.write(_("Untouched target accounts: %(count)s") % {"count": services.flag_untouched()})
