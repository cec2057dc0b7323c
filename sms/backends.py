"""The SMS gateway backend the app sends through, picked by name (`SMS_BACKEND`).

The interface (`gateway.py`) knows no backend, and each backend knows only the interface: this
table is the one place that knows them all. `console` prints (development), `fake` records and can
be told to fail (tests), `africastalking` talks to the real API (`africastalking.py`, imported only
when chosen, with the SDK behind it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .gateway import ConsoleGateway, FakeGateway, SmsGateway

Config = Mapping[str, Any]


def _africastalking(config: Config) -> SmsGateway:
    from .africastalking import AfricasTalkingGateway

    return AfricasTalkingGateway.from_config(config)


BACKENDS: Mapping[str, Callable[[Config], SmsGateway]] = {
    "console": lambda _config: ConsoleGateway(),
    "fake": lambda _config: FakeGateway(),
    "africastalking": _africastalking,
}


def gateway_from_config(config: Config) -> SmsGateway:
    backend = config.get("SMS_BACKEND", "console")
    make = BACKENDS.get(backend)
    if make is None:
        raise ValueError(f"unknown SMS_BACKEND {backend!r}")
    return make(config)
