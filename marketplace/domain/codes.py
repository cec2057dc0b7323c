"""Codes people type on a keypad.

Voucher codes are numeric with a Damm check digit: it catches every single mistyped digit and every
swap of two adjacent digits. Digits come from `secrets`, a cryptographic random source.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

VOUCHER_CODE_LENGTH = 10  # 9 random digits + 1 check digit


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def with_check_digit(digits: str) -> str:
    return digits + str(damm_digit(digits))


def is_valid_check(code: str) -> bool:
    return code.isdigit() and len(code) >= 2 and damm_digit(code) == 0


def random_digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


def new_voucher_code() -> str:
    # First digit never 0, so the code survives spreadsheets that strip leading zeros.
    low = 10 ** (VOUCHER_CODE_LENGTH - 2)
    body = str(low + secrets.randbelow(9 * low))
    return with_check_digit(body)


def normalise_voucher_code(raw: str) -> str | None:
    """Strip spaces and dashes people add; None when it cannot be a voucher code."""
    code = "".join(ch for ch in raw if ch.isdigit())
    if len(code) != VOUCHER_CODE_LENGTH or not is_valid_check(code):
        return None
    return code


def format_voucher_code(code: str) -> str:
    """'123 456 7890' — easier to read aloud."""
    return f"{code[:3]} {code[3:6]} {code[6:]}"


def new_provider_number(length: int = 5) -> str:
    """A short provider number with a check digit, e.g. '40217'."""
    return with_check_digit(str(secrets.randbelow(9) + 1) + random_digits(length - 2))


def new_otp(length: int = 6) -> str:
    return random_digits(length)


def hash_secret(secret_key: str, value: str) -> str:
    """Keyed hash for short codes: a stolen table does not reveal them without the key."""
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
