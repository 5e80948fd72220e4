"""rubric_xl._decimal.plain: the one exact Decimal-to-text helper."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rubric_xl._decimal import plain


@pytest.mark.parametrize("value,text", [
    (Decimal("2.50"), "2.5"), (Decimal("3.00"), "3"), (Decimal("1E+2"), "100"),
    (Decimal("-0"), "0"), (Decimal("-0.00"), "0"), (Decimal("1E-7"), "0.0000001"),
    (Decimal("-12.340"), "-12.34"), (Decimal("999999999999999.999999"), "999999999999999.999999"),
    (7, "7"), (-3, "-3"),
])
def test_plain_examples(value, text):
    assert plain(value) == text


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e15"),
                   max_value=Decimal("1e15"), places=6))
def test_plain_is_exact_and_never_an_exponent(d):
    text = plain(d)
    assert Decimal(text) == d
    assert "E" not in text.upper()
    assert not ("." in text and text.endswith(("0", ".")))
    assert text != "-0"


def test_the_sheet_builders_and_meta_use_it():
    """The template's ranges, the _meta reader and the case runner all say 2.5 for 2.50."""
    from rubric_xl.caserun import _show
    from rubric_xl.reader._meta import cell_text
    from rubric_xl.workbook.inputs import _range_text

    assert cell_text(2.50) == "2.5" and cell_text(100.0) == "100"
    assert _show(Decimal("2.50")) == "2.5"
    assert _range_text(Decimal("0.50"), Decimal("100.00")) == "0.5–100"
