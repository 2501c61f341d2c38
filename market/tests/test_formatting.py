"""How numbers read: prices on the tick grid, and arrows only for changes a person can see."""

from decimal import Decimal

import pytest

from market.formatting import direction, pct_text, price_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.25"), "up"),
        (Decimal("-0.4"), "down"),
        (Decimal("0.004"), ""),  # shows as 0.00: no arrow, no colour
        (Decimal("-0.004"), ""),
        (Decimal("0.005"), ""),  # half-even: 0.00
        (Decimal("0.006"), "up"),
        (None, ""),
    ],
)
def test_direction_is_judged_on_the_value_as_shown(value, expected):
    assert direction(value) == expected


def test_direction_can_judge_the_exact_value():
    assert direction(Decimal("0.0003"), places=None) == "up"


def test_the_text_and_the_arrow_agree():
    for raw in ("0.004", "-0.004", "0.015", "-2.5"):
        value = Decimal(raw)
        text = pct_text(value)
        assert (direction(value) == "") == (text == "0.00")


def test_prices_are_shown_on_the_tick_grid():
    assert price_text(Decimal("43125.5"), Decimal("0.01")) == "43125.50"
    assert price_text(Decimal("1.084105"), Decimal("0.00001")) == "1.08410"
    assert price_text(None, Decimal("0.01")) is None
