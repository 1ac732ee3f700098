"""The funnel flow's median days on PostgreSQL, where the database picks the middle stays of each stage, equal those
of the portable twin that reads every stay into pandas (STYLE §5).

Each test runs both paths on the same PostgreSQL data and compares the whole flow, medians included, for the scope
and per owner: even and odd numbers of stays, equal lengths, changes at the same moment, back-filled changes dated
before the opportunity was created, and opportunities outside the period or the viewer's sight.
"""

import random
from datetime import timedelta

import pytest
from django.db import connection

from analytics import funnel as funnel_frames
from analytics.selectors import funnel
from analytics.selectors.funnel import funnel_flow, funnel_flow_by_owner
from pipeline.models import StageChange
from tests.analytics.conftest import at
from tests.factories import OpportunityFactory, StageChangeFactory, default_stage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the middle stays are picked by PostgreSQL"),
]
START, END = at(2026, 1, 1).date(), at(2026, 4, 30).date()
PATH = ["prep", "status", "opportunity", "needs", "develop", "propose", "commit"]


@pytest.fixture
def varied_flow(org, now):
    """Opportunities of four owners walking the default pipeline at random moments, some of them at the same moment
    or with stays of the same length, one back-filled before its creation, a few outside the period."""
    rng = random.Random(20260515)
    owners = [org.rep_a1, org.rep_a2, org.rep_b1, org.manager_a]
    for i in range(60):
        owner = owners[i % len(owners)]
        created = at(2026, 1, 2) + timedelta(days=rng.randint(0, 150), seconds=rng.randint(0, 86_399))
        steps = rng.randint(1, len(PATH) - 1)
        opportunity = OpportunityFactory(owner=owner, stage=default_stage(PATH[steps]), created_at=created)
        StageChangeFactory(opportunity=opportunity, to_stage=default_stage("prep"), changed_at=created)
        moment = created
        for step in range(1, steps + 1):
            # Whole days make equal stays; zero days two changes at one moment; i % 17 == 5 a back-filled change.
            moment += timedelta(days=rng.choice([0, 1, 2, 2, 3, 7]), hours=rng.choice([0, 0, 5]))
            if i % 17 == 5 and step == 1:
                moment = created - timedelta(days=3)
            StageChangeFactory(
                opportunity=opportunity,
                from_stage=default_stage(PATH[step - 1]),
                to_stage=default_stage(PATH[step]),
                changed_at=moment,
            )


@pytest.fixture
def portable(monkeypatch):
    """Makes the selectors read every stay into pandas, as on SQLite."""
    monkeypatch.setattr(funnel, "middle_stays_postgresql", lambda changes, per_owner: funnel.stays_portable(changes))
    monkeypatch.setattr(
        funnel, "middle_stays_by_stage_postgresql", lambda changes, stage_ids: funnel.stays_portable(changes)
    )


def flows(viewer, pipeline):
    return (
        funnel_flow(viewer=viewer, pipeline=pipeline, start=START, end=END),
        funnel_flow_by_owner(viewer=viewer, pipeline=pipeline, start=START, end=END),
        funnel_flow(viewer=viewer, pipeline=pipeline, start=START, end=END, team=viewer.team),
    )


@pytest.mark.parametrize("viewer", ["director", "manager_a", "rep_a1"])
def test_both_paths_give_the_same_flow_and_medians(org, default_pipeline, varied_flow, viewer, request):
    user = getattr(org, viewer)
    by_database = flows(user, default_pipeline)
    request.getfixturevalue("portable")

    by_pandas = flows(user, default_pipeline)

    assert by_database == by_pandas
    assert any(s.median_days is not None for s in by_database[0].stages)


@pytest.mark.parametrize("per_owner", [False, True])
def test_the_database_sends_one_or_two_stays_per_stage_and_they_give_the_medians_of_all(org, varied_flow, per_owner):
    changes = StageChange.objects.filter(opportunity__created_at__gte=at(2026, 1, 1))
    keys = ["owner_id"] if per_owner else []

    middle = funnel.middle_stays_postgresql(changes, per_owner=per_owner)
    every = funnel.stays_portable(changes)

    assert funnel_frames.median_days_by(middle, keys) == funnel_frames.median_days_by(every, keys)
    assert middle.groupby([*keys, "from_stage"]).size().max() <= 2
    assert len(middle) < len(every) / 3


def test_the_database_picks_the_middle_stays_stage_by_stage_and_they_give_the_medians_of_all(
    org, default_pipeline, varied_flow
):
    changes = StageChange.objects.filter(opportunity_created_at__gte=at(2026, 1, 1))
    stage_ids = list(default_pipeline.stages.values_list("pk", flat=True))

    middle = funnel.middle_stays_by_stage_postgresql(changes, stage_ids=stage_ids)
    every = funnel.stays_portable(changes)

    assert funnel_frames.median_days_by(middle, []) == funnel_frames.median_days_by(every, [])
    assert middle.groupby("from_stage").size().max() <= 2
    assert len(middle) < len(every) / 3


def test_a_viewer_who_sees_nothing_gets_no_stay(org, default_pipeline, varied_flow):
    middle = funnel.middle_stays_postgresql(StageChange.objects.none(), per_owner=False)
    by_stage = funnel.middle_stays_by_stage_postgresql(
        StageChange.objects.none(), stage_ids=[s.pk for s in default_pipeline.stages.all()]
    )

    assert middle.empty
    assert by_stage.empty
    assert funnel_frames.median_days_by(middle, []) == {}
