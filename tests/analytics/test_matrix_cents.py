"""The matrix's arithmetic in whole cents: exact medians, no silent rounding, no silent overflow."""

from decimal import Decimal

import pandas as pd
import pytest

from analytics import matrix

SETTINGS = {"value_per_unit": Decimal(30000), "default_spend": Decimal(500)}


def inputs(**columns) -> pd.DataFrame:
    """One account per row with nothing known, overridden by `columns` (lists of equal length)."""
    size = len(next(iter(columns.values())))
    base = {
        "account": list(range(1, size + 1)),
        "name": [f"account {i}" for i in range(size)],
        "is_target": [False] * size,
        "region_code": [None] * size,
        "region_order": pd.array([None] * size, dtype="Int64"),
        "employee_count": pd.array([None] * size, dtype="Int64"),
        "spend_cents": pd.array([None] * size, dtype="Int64"),
        "won_cents": [0] * size,
        "other_cents": [0] * size,
        "potential_cents": pd.array([None] * size, dtype="Int64"),
        "our_units": [0] * size,
        "competitor_units": [0] * size,
    }
    typed = {
        name: pd.array(values, dtype="Int64")
        if name in ("employee_count", "spend_cents", "potential_cents")
        else values
        for name, values in columns.items()
    }
    return pd.DataFrame({**base, **typed})


@pytest.mark.parametrize(
    ("cents", "median"),
    [
        ([5], Decimal("0.05")),
        ([1, 2], Decimal("0.02")),  # 1.5 cents, half up
        ([101, 102, 103, 104], Decimal("1.03")),  # 102.5 cents
        ([100, 300, 200], Decimal("2.00")),
        ([0, 0, 10_000_000, 32_000_000], Decimal("50000.00")),
    ],
)
def test_the_median_threshold_is_exact_and_rounded_half_up_to_the_cent(cents, median):
    assert matrix.median_threshold(pd.Series(cents)) == median


def test_the_median_of_no_values_is_none():
    assert matrix.median_threshold(pd.Series([], dtype="int64")) is None


def test_amounts_finer_than_a_cent_are_refused_rather_than_rounded():
    assert (matrix.whole_cents(Decimal("12.30")), matrix.whole_cents(30000)) == (1230, 3_000_000)
    with pytest.raises(ValueError, match=r"^0\.005 is not a whole number of cents$"):
        matrix.whole_cents(Decimal("0.005"))


def test_money_goes_back_to_decimals_with_two_places():
    assert [str(amount) for amount in matrix.money([0, 5, 123456])] == ["0.00", "0.05", "1234.56"]


def test_pv_from_employees_too_large_for_cents_raises_instead_of_wrapping_around():
    frame = inputs(employee_count=[2_000_000_000], spend_cents=[10**11])

    with pytest.raises(OverflowError):
        matrix.account_values(frame, **SETTINGS)


def test_only_the_pv_step_an_account_uses_is_computed():
    # Employees × spend would overflow, but the explicit estimate comes first and is what counts.
    frame = inputs(employee_count=[2_000_000_000], spend_cents=[10**11], potential_cents=[1_000_000])

    values = matrix.account_values(frame, **SETTINGS)

    assert (values["pv"].tolist(), values["pv_source"].tolist()) == ([Decimal("10000.00")], ["explicit"])


def test_account_values_computes_cv_and_each_pv_step_in_cents_and_drops_accounts_without_either():
    frame = inputs(
        won_cents=[10_000, 0, 0, 0, 0],
        other_cents=[5, 0, 0, 0, 0],
        potential_cents=[None, 70_000, None, None, None],
        our_units=[1, 0, 2, 0, 0],
        competitor_units=[0, 0, 1, 0, 0],
        employee_count=[None, 10, None, 3, None],
        spend_cents=[None, None, None, 12_345, None],
    )

    values = matrix.account_values(frame, **SETTINGS)

    assert values[["account", "cv", "pv", "pv_source", "customer_type"]].to_dict("records") == [
        {
            "account": 1,
            "cv": Decimal("100.05"),
            "pv": Decimal("30000.00"),
            "pv_source": "installed_base",
            "customer_type": "ours",
        },
        {
            "account": 2,
            "cv": Decimal("0.00"),
            "pv": Decimal("700.00"),
            "pv_source": "explicit",
            "customer_type": "none",
        },
        {
            "account": 3,
            "cv": Decimal("0.00"),
            "pv": Decimal("90000.00"),
            "pv_source": "installed_base",
            "customer_type": "mixed",
        },
        {
            "account": 4,
            "cv": Decimal("0.00"),
            "pv": Decimal("370.35"),
            "pv_source": "employees",
            "customer_type": "none",
        },
    ]
