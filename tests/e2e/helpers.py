"""Pieces the board, opportunity and manager browser tests share."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from pipeline.models import Pipeline, Stage, StageCriterion
from pipeline.process_templates import DEFAULT_PIPELINE, install_pipeline

SHOTS = Path(settings.BASE_DIR) / "test-results" / "screenshots"


def install_default_pipeline() -> Pipeline:
    """The default pipeline its data migration installs (a transactional test empties every table after it)."""
    return install_pipeline(
        DEFAULT_PIPELINE, pipeline_model=Pipeline, stage_model=Stage, criterion_model=StageCriterion
    )


def shot(page, name: str) -> None:
    """A screenshot to look at (not a failure): test-results/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
