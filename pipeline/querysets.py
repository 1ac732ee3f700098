"""The filters on pipeline rows, each an adjective (`.open()`, `.done()`, `.visible_to(user)`); they decide nothing."""

from __future__ import annotations

from django.db import models

from accounts.models import VisibleQuerySet
from accounts.visibility import visibility_filter, visit_visibility_filter


class OpportunityQuerySet(VisibleQuerySet):
    def open(self) -> OpportunityQuerySet:
        return self.filter(status=self.model.Status.OPEN)

    def won(self) -> OpportunityQuerySet:
        return self.filter(status=self.model.Status.WON)

    def lost(self) -> OpportunityQuerySet:
        return self.filter(status=self.model.Status.LOST)

    def closed_between(self, start, end) -> OpportunityQuerySet:
        return self.filter(closed_at__gte=start, closed_at__lt=end)


class StageChangeQuerySet(VisibleQuerySet):
    owner_path = "opportunity__owner"


class VisitQuerySet(VisibleQuerySet):
    def visible_to(self, user) -> VisitQuerySet:
        """Made by, at an account of, or about an opportunity of the viewer's visible owners; `editable_by` keeps
        changes to the author's side."""
        return self.filter(visit_visibility_filter(user))

    def done(self) -> VisitQuerySet:
        return self.filter(status=self.model.Status.DONE)

    def planned(self) -> VisitQuerySet:
        return self.filter(status=self.model.Status.PLANNED)


class WeekCommentQuerySet(VisibleQuerySet):
    owner_path = "rep"


class SalesTargetQuerySet(models.QuerySet):
    def visible_to(self, user) -> SalesTargetQuerySet:
        return self.filter(visibility_filter(user, "owner_user", team_path="owner_team"))
