"""The USSD screens' words: the catalogue's `ussd.` section, by screen id.

A few texts are bilingual on purpose (the same in every language): they are shown before we know
who is dialling. `tests/ussd/test_registry.py` renders every screen and every ending in every
language with long sample values and checks the GSM-7 and 160-character rules.
"""

from __future__ import annotations

from .catalogue import Scope

t = Scope("ussd")


def error_key(code: str) -> str:
    """The key of the ending for a domain error's code, or the general one."""
    key = f"error.{code}"
    return key if key in t else "error.domain_error"
