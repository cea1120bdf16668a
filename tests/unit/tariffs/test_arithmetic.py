"""Exact arithmetic and the single rounding to 4 decimals, half away from zero."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis.strategies import decimals, fractions, integers

from chargegrid.tariffs.arithmetic import DECIMALS, check_number, ocpi_number, ocpi_ratio


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 3), "0.3333"),
        (Fraction(2, 3), "0.6667"),
        (Fraction("0.00005"), "0.0001"),  # half: away from zero
        (Fraction("0.000049999999999"), "0.0000"),
        (Fraction("-0.00005"), "-0.0001"),
        (Fraction("-0.00004"), "0.0000"),  # no negative zero
        (Fraction("0.03125"), "0.0313"),
        (Fraction(5), "5.0000"),
        (Fraction("1234567890.12345"), "1234567890.1235"),
        (Fraction("999999999999999999999999.99995"), "1000000000000000000000000.0000"),
        (Fraction("-999999999999999999999999.99995"), "-1000000000000000000000000.0000"),
    ],
)
def test_ocpi_numbers_have_4_decimals_rounded_half_up(value: Fraction, expected: str) -> None:
    rounded = ocpi_number(value)
    assert str(rounded) == expected
    assert rounded.as_tuple().exponent == -DECIMALS


@given(fractions(max_denominator=10**12))
def test_rounding_is_half_away_from_zero_of_the_exact_value(value: Fraction) -> None:
    units = int(abs(value) * 10**DECIMALS + Fraction(1, 2))  # floor, for a positive value
    sign = 1 if value < 0 and units else 0
    expected = Decimal((sign, tuple(int(digit) for digit in str(units)), -DECIMALS))
    assert ocpi_number(value).compare_total(expected) == 0  # the same digits and exponent


@given(decimals(allow_nan=False, allow_infinity=False, places=8))
def test_a_decimal_rounds_as_the_same_fraction(value: Decimal) -> None:
    assert ocpi_number(value) == ocpi_number(Fraction(value))
    assert ocpi_number(value).as_tuple().exponent == -DECIMALS


@given(integers(), integers(min_value=1))
def test_a_ratio_rounds_as_the_same_fraction(numerator: int, denominator: int) -> None:
    assert ocpi_ratio(numerator, denominator) == ocpi_number(Fraction(numerator, denominator))


def test_usable_numbers() -> None:
    assert check_number(Decimal("0.25")) is None
    assert check_number(Decimal("-12.5")) is None
    assert check_number(Decimal("0E-30")) is None  # zero, however written
    assert check_number(Decimal("1E-20")) is None
    assert check_number(Decimal("NaN")) == "must be a finite number"
    assert check_number(Decimal("-Infinity")) == "must be a finite number"
    assert check_number(Decimal("1E15")) == "must be below 10^15"
    assert check_number(Decimal("1E-21")) == "must have at most 20 decimals"
    assert check_number(Decimal("1.000000000000000000000000")) is None  # trailing zeros
    assert check_number(Decimal("1.000000000000000000001")) == "must have at most 20 decimals"
    assert check_number(Decimal("1E+999999999")) == "must be below 10^15"
