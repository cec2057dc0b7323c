"""Money: integer minor units, split so that the parts add up exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.domain.money import Money, format_minor, session_share

values = st.integers(min_value=0, max_value=10**15)
parts = st.integers(min_value=1, max_value=100)


@given(value=values, n=parts)
def test_splitting_money_adds_up_exactly_and_shares_differ_by_the_remainder_only(
    value: int, n: int
) -> None:
    shares = Money(value, "KES").split(n)
    assert len(shares) == n
    assert sum(s.minor for s in shares) == value
    assert {s.currency for s in shares} == {"KES"}
    assert max(s.minor for s in shares[:-1]) <= shares[-1].minor if n > 1 else True
    assert shares[-1].minor - shares[0].minor < n


@given(value=values, n=parts)
def test_the_sessions_of_a_voucher_release_exactly_its_face_value(value: int, n: int) -> None:
    released = [session_share(value, n, seq) for seq in range(1, n + 1)]
    assert sum(released) == value
    assert all(r >= 0 for r in released)
    assert released == [s.minor for s in Money(value, "KES").split(n)]


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(10.5, "KES")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "KES") + Money(1, "UGX")
    with pytest.raises(ValueError):
        Money(1, "KES").split(0)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (125_000, "KES", "KES 1,250"),
        (125_050, "KES", "KES 1,250.50"),
        (50_000, "UGX", "UGX 50,000"),
        (-150, "KES", "KES -1.50"),
    ],
)
def test_amounts_are_written_the_way_people_read_them(minor: int, currency: str, text: str) -> None:
    assert format_minor(minor, currency) == text
