from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from analytics.digests import sending as digests
from core.calendar import period_start, today


def _monday(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--week must be a date as YYYY-MM-DD, got {value!r}.") from None
    if day.weekday() != 0:
        monday = period_start("week", day)
        raise CommandError(f"--week must be a Monday; {value} is a {day:%A} (that week's Monday is {monday}).")
    return day


class Command(BaseCommand):
    help = (
        "Sends the weekly digest of a week to every active user who did not opt out and has not been sent it yet. "
        "Safe to run twice: nobody gets a week's digest twice. A failed send is kept as failed and retried next run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--week", help="the Monday of the week, YYYY-MM-DD (default: this week)")
        parser.add_argument("--dry-run", action="store_true", help="list who would get it; send and write nothing")

    def handle(self, *args, week: str | None = None, dry_run: bool = False, **options) -> None:
        week_start = _monday(week) if week else period_start("week", today())
        recipients = list(digests.digest_recipients(week_start=week_start).only("pk", "username", "email"))
        if dry_run:
            for user in recipients:
                self.stdout.write(
                    _("Would send to %(user)s <%(email)s>") % {"user": user.username, "email": user.email}
                )
            self.stdout.write(
                _("Week of %(week)s: %(count)s digests would be sent (dry run)")
                % {"week": week_start, "count": len(recipients)}
            )
            return
        sent = failed = 0
        for user in recipients:
            try:
                sent += digests.send_weekly_digest(user_id=user.pk, week_start=week_start)
            except Exception as error:  # one user's failure (kept on their delivery) must not stop the others
                failed += 1
                self.stderr.write(
                    _("Failed for %(user)s: %(error)s")
                    % {"user": user.username, "error": f"{type(error).__name__}: {error}"}
                )
        self.stdout.write(
            _("Week of %(week)s: %(sent)s digests sent, %(failed)s failed")
            % {"week": week_start, "sent": sent, "failed": failed}
        )
        if failed:
            raise CommandError(
                _("%(count)s digests failed; they stay failed and are retried on the next run.") % {"count": failed}
            )
