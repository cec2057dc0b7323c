"""Voucher codes people type on a keypad: the check digit catches the usual slips."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marketplace.domain.codes import (
    VOUCHER_CODE_LENGTH,
    format_voucher_code,
    is_valid_check,
    new_provider_number,
    new_voucher_code,
    normalise_voucher_code,
    with_check_digit,
)

bodies = st.text(alphabet="0123456789", min_size=1, max_size=15)


@given(body=bodies, data=st.data())
def test_the_check_digit_catches_every_single_mistyped_digit(
    body: str, data: st.DataObject
) -> None:
    code = with_check_digit(body)
    position = data.draw(st.integers(0, len(code) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
    mistyped = code[:position] + wrong + code[position + 1 :]
    assert is_valid_check(code)
    assert not is_valid_check(mistyped)


@given(body=st.text(alphabet="0123456789", min_size=1, max_size=15), data=st.data())
def test_the_check_digit_catches_every_swap_of_two_adjacent_digits(
    body: str, data: st.DataObject
) -> None:
    code = with_check_digit(body)
    i = data.draw(st.integers(0, len(code) - 2))
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    if swapped != code:
        assert not is_valid_check(swapped)


def test_every_single_digit_slip_and_adjacent_swap_of_one_code_is_caught() -> None:
    code = with_check_digit("123456789")
    for i in range(len(code)):
        for d in "0123456789":
            slip = code[:i] + d + code[i + 1 :]
            assert is_valid_check(slip) == (slip == code)


def test_new_voucher_codes_have_ten_digits_a_valid_check_and_no_leading_zero() -> None:
    codes = {new_voucher_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == VOUCHER_CODE_LENGTH and code.isdigit()
        assert code[0] != "0"
        assert is_valid_check(code)
    assert {c[0] for c in codes} == set("123456789")  # every leading digit occurs


def test_a_code_typed_with_spaces_or_dashes_is_recognised_and_a_slip_is_not() -> None:
    code = new_voucher_code()
    shown = format_voucher_code(code)
    assert shown.replace(" ", "") == code
    assert normalise_voucher_code(shown) == code
    assert normalise_voucher_code(shown.replace(" ", "-")) == code
    slip = code[:4] + str((int(code[4]) + 1) % 10) + code[5:]
    assert normalise_voucher_code(slip) is None
    assert normalise_voucher_code(code[:-1]) is None
    assert normalise_voucher_code("") is None


def test_provider_numbers_carry_a_check_digit() -> None:
    for _ in range(200):
        number = new_provider_number()
        assert len(number) == 5 and number[0] != "0" and is_valid_check(number)
