"""Planning pages: the comments of a rep's manager (or a director) on the rep's week of visits (the C and A of
P-D-C-A)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import User
from core.errors import NotAllowed, NotVisible, ValidationFailed
from pipeline.models import VisitWeekComment
from pipeline.services._common import in_actor_language


def may_comment_on_visit_week(*, author: User, rep: User) -> bool:
    """True when `author` is a director or the manager of `rep`'s team, and is not `rep`; one query at most."""
    if author.pk == rep.pk or not author.is_active:
        return False
    if author.is_director:
        return True
    return author.is_manager and User.objects.filter(pk=rep.pk, team__manager=author).exists()


@in_actor_language("author")
@transaction.atomic
def comment_on_visit_week(*, rep: User, week_start: date, author: User, text: str) -> VisitWeekComment:
    """Adds the comment of the rep's manager (or a director) on the rep's week starting Monday `week_start`;
    writes nothing if it raises."""
    if not User.objects.visible_to(author).filter(pk=rep.pk).exists():
        raise NotVisible(gettext("No such user."))
    if not may_comment_on_visit_week(author=author, rep=rep):
        raise NotAllowed(gettext("Only the rep's manager or a director may comment on a rep's week."))
    if week_start.weekday() != 0:
        raise ValidationFailed(gettext("A week starts on a Monday."), field="week")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(gettext("Write a comment."), field="text")
    return VisitWeekComment.objects.create(rep=rep, week_start=week_start, author=author, text=text)
