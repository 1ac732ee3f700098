"""Sales processes, opportunities, visits and targets (SPEC §3–§6), one module per topic."""

from pipeline.models.history import ForecastCallChange, OpportunityChange, TargetChange
from pipeline.models.imports import ImportJob, ImportJobQuerySet
from pipeline.models.opportunities import Opportunity, Reassignment, StageChange
from pipeline.models.process import BilingualMixin, Pipeline, Stage, StageCriterion
from pipeline.models.targets import ForecastCall, SalesTarget
from pipeline.models.visits import Visit, VisitWeekComment
from pipeline.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from pipeline.querysets import (
    OpportunityQuerySet,
    SalesTargetQuerySet,
    StageChangeQuerySet,
    VisitQuerySet,
    WeekCommentQuerySet,
)

__all__ = [
    "BilingualMixin",
    "ForecastCall",
    "ForecastCallChange",
    "ImportJob",
    "ImportJobQuerySet",
    "Opportunity",
    "OpportunityChange",
    "OpportunityQuerySet",
    "Pipeline",
    "Reassignment",
    "SalesTarget",
    "SalesTargetQuerySet",
    "Stage",
    "StageChange",
    "StageChangeQuerySet",
    "StageCriterion",
    "TargetChange",
    "Visit",
    "VisitQuerySet",
    "VisitWeekComment",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WeekCommentQuerySet",
]
