"""Regions carry the company's order (issue 13): the migration numbers existing regions as they were listed (by
code), and lists of regions follow that order, not the alphabet."""

from importlib import import_module

import pytest
from django.apps import apps

from accounts.models import Region
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

migration = import_module("accounts.migrations.0009_region_sort_order")


def test_the_migration_numbers_existing_regions_by_code_in_steps_of_ten(db):
    east = RegionFactory(code="EC")
    RegionFactory(code="SC")
    RegionFactory(code="EC-SH", level=2, parent=east)
    RegionFactory(code="CC")

    migration.number_regions_as_seeded(apps, None)

    assert list(Region.objects.values_list("code", "sort_order")) == [
        ("CC", 10),
        ("EC", 20),
        ("EC-SH", 30),
        ("SC", 40),
    ]


def test_regions_list_in_their_sort_order_then_code(db):
    RegionFactory(code="A", sort_order=20)
    RegionFactory(code="Z", sort_order=10)
    RegionFactory(code="M", sort_order=20)

    assert list(Region.objects.values_list("code", flat=True)) == ["Z", "A", "M"]
