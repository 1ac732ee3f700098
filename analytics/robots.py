"""Reminders and summaries for group robots (issue 14): a user's daily reminder posted to their team's robots, and a
manager's weekly summary posted to each of their teams' robots, as markdown in each robot's language, exactly once
per robot and key (pipeline.services.webhooks.post_robot_message: `reminder:<user id>:<day>`, `summary:<Monday>`).

They ride on the emails' schedule and checks: a reminder is posted when the user's reminder email is due (08:00 their
time, something due, not opted out), a summary when the manager's weekly digest is (Monday 08:00 their time). Only
robots bound to a team and subscribed to `reminder.daily` / `summary.weekly` get them.
"""

from __future__ import annotations

import functools
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from accounts.models import User
from analytics.digests.content import TeamBlock, WeeklyDigest, weekly_digest
from core.templatetags.salesflow import cny
from pipeline.models import WebhookEndpoint
from pipeline.services.webhooks import post_robot_message

Event = WebhookEndpoint.Event
ROBOT_KINDS = (WebhookEndpoint.Kind.WECOM, WebhookEndpoint.Kind.DINGTALK)


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _more(n: int) -> list[str]:
    return [ngettext("and %(n)s more", "and %(n)s more", n) % {"n": n}] if n else []


def render_reminder_markdown(*, user: User, reminder, language: str) -> tuple[str, str]:
    """(title, markdown) of a user's daily reminder (analytics.reminders.Reminder) in `language`; runs no query."""
    with translation.override(language):
        title = gettext("To-do for %(name)s: %(n)s due or overdue") % {"name": user.display_name, "n": reminder.total}
        lines = [f"### {title}"]
        sections = [
            (gettext("Overdue visits"), reminder.overdue, lambda v: f"{v.planned_at:%m-%d} {v.account.name}"),
            (gettext("Follow-ups due"), reminder.follow_ups, lambda v: f"{v.planned_at:%m-%d} {v.account.name}"),
            (
                gettext("Past their expected close date"),
                reminder.past_close,
                lambda o: f"{o.name} · {o.account.name} · {cny(o.amount)}",
            ),
        ]
        for label, capped, line in sections:
            if capped.total:
                lines.append(f"**{label}: {capped.total}**")
                lines += [f"- {line(item)}" for item in capped.items] + [f"- {m}" for m in _more(capped.more)]
        link = gettext("Open the to-do")
        lines.append(f"\n[{link}]({_site(reverse('home'))}#todo)")
        return title, "\n".join(lines)


def post_daily_reminder(*, user: User, reminder) -> list[int]:
    """Queues the user's reminder of `reminder.day` to their team's subscribed robots, once per robot and day; one
    query when the team has none (none at all without a team)."""
    if user.team_id is None:
        return []
    return post_robot_message(
        event=Event.DAILY_REMINDER,
        team_id=user.team_id,
        key=f"reminder:{user.pk}:{reminder.day.isoformat()}",
        render=lambda language: render_reminder_markdown(user=user, reminder=reminder, language=language),
    )


def render_team_summary(*, digest: WeeklyDigest, block: TeamBlock, language: str) -> tuple[str, str]:
    """(title, markdown) of one team's week from its manager's digest, in `language`; runs no query."""
    with translation.override(language):
        title = gettext("%(team)s: the week of %(start)s") % {
            "team": block.team.name,
            "start": digest.last_week_start.isoformat(),
        }
        lines = [f"### {title}"]
        line = gettext("%(name)s: %(visits)s visits done, %(won)s won / %(lost)s lost, %(open)s open (%(amount)s)")
        lines += [
            "- "
            + line
            % {
                "name": person.user.display_name,
                "visits": person.done_visits,
                "won": person.outcomes.won,
                "lost": person.outcomes.lost,
                "open": person.open_count,
                "amount": cny(person.open_amount),
            }
            for person in block.people
        ]
        if block.month and block.month.percent is not None:
            lines.append(gettext("Team target this month: %(percent)s%% reached") % {"percent": block.month.percent})
        link = gettext("Open the team page")
        lines.append(f"\n[{link}]({_site(reverse('analytics:team'))})")
        return title, "\n".join(lines)


def post_weekly_summaries(*, manager: User, week_start: date) -> list[int]:
    """Queues a summary of last week per team `manager` manages to that team's subscribed robots, once per robot and
    week; one query when none of their teams has such a robot, else the digest's queries too."""
    robots = WebhookEndpoint.objects.active().filter(team__manager=manager, kind__in=ROBOT_KINDS)
    if not any(Event.WEEKLY_SUMMARY in robot.events for robot in robots):
        return []
    digest = functools.cache(lambda: weekly_digest(user=manager, week_start=week_start))
    ids: list[int] = []
    for block in digest().team.teams if digest().team else []:
        if block.team is None:
            continue
        ids += post_robot_message(
            event=Event.WEEKLY_SUMMARY,
            team_id=block.team.pk,
            key=f"summary:{week_start.isoformat()}",
            render=lambda language, block=block: render_team_summary(digest=digest(), block=block, language=language),
        )
    return ids
