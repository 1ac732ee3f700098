from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import reminders


class Command(BaseCommand):
    help = (
        "Sends the daily reminder to every user whose local time is past 08:00, who has something due or overdue and "
        "has not been sent today's yet (what the 15-minute beat entry does). Safe to run twice."
    )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        sent = failed = 0
        for user_id, day in reminders.reminders_due(now=now):
            try:
                sent += reminders.send_daily_reminder(user_id=user_id, day=day, now=now)
            except Exception as error:  # one user's failure (kept on their delivery) must not stop the others
                failed += 1
                self.stderr.write(_("Failed for user %(id)s: %(error)s") % {"id": user_id, "error": error})
        self.stdout.write(_("%(sent)s reminders sent, %(failed)s failed") % {"sent": sent, "failed": failed})
        if failed:
            raise CommandError(_("%(count)s reminders failed; they are retried on the next run.") % {"count": failed})
