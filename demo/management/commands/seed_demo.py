"""manage.py seed_demo [--scale N] [--seed S] [--flush] [--today YYYY-MM-DD]: a demo company (demo/seed.py)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from demo.seed import DemoDataExists, seed_demo


class Command(BaseCommand):
    help = "Fills an empty database with a realistic demo company; --scale multiplies its size, --seed fixes it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="Size multiplier; fractions such as 0.1 work.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed and day give the same data."
        )
        parser.add_argument("--flush", action="store_true", help="Delete existing customers, history and users first.")
        parser.add_argument(
            "--today", type=date.fromisoformat, default=None, help="Pretend today is this date (YYYY-MM-DD)."
        )

    def handle(self, *args, scale: float, seed: int, flush: bool, today: date | None, **options) -> None:
        if scale <= 0:
            raise CommandError(_("--scale must be greater than 0."))
        try:
            summary = seed_demo(scale=scale, seed=seed, today=today, flush=flush)
        except DemoDataExists as exc:
            raise CommandError(
                _("The database already has accounts or demo users. Run seed_demo --flush to replace them.")
            ) from exc
        self.stdout.write(_("Created:"))
        for name, count in summary.counts.items():
            self.stdout.write(f"  {name:<18} {count:>8}")
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password: %(password)s):") % {"password": summary.password})
        for login in summary.logins:
            self.stdout.write(
                f"  {login.username:<12} {login.role:<9} {login.name:<6} {login.language:<8} {login.team}"
            )
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
