"""The payment channels the app pays through, picked by name (`PAYMENTS_BACKEND`).

The interface (`gateway.py`) knows no backend, and each backend knows only the interface: this
table is the one place that knows them all. `console` prints and pays at once (development),
`fake` records (tests), `csv` leaves every payment to the bank file an officer pays and marks,
`mpesa` pays by Daraja B2C (`mpesa.py`, imported only when chosen). Payments to bank accounts go
by the bank file whatever the mobile channel is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .gateway import ConsoleGateway, CsvGateway, FakeGateway, PaymentGateway

Config = Mapping[str, Any]


def _mpesa(config: Config) -> PaymentGateway:
    from .mpesa import MpesaGateway
    from .tokens import DatabaseTokenStore

    return MpesaGateway.from_config(config, DatabaseTokenStore("mpesa"))


BACKENDS: Mapping[str, Callable[[Config], PaymentGateway]] = {
    "console": lambda _config: ConsoleGateway(),
    "fake": lambda _config: FakeGateway(),
    "csv": lambda _config: CsvGateway(),
    "mpesa": _mpesa,
}


def gateways_from_config(config: Config) -> dict[str, PaymentGateway]:
    """The mobile channel by its name, and the bank file (`csv`) beside it."""
    backend = config.get("PAYMENTS_BACKEND", "console")
    make = BACKENDS.get(backend)
    if make is None:
        raise ValueError(f"unknown PAYMENTS_BACKEND {backend!r}")
    gateways: dict[str, PaymentGateway] = {"csv": CsvGateway()}
    gateways[backend] = make(config)
    return gateways


def mobile_channel(config: Config) -> str:
    return str(config.get("PAYMENTS_BACKEND", "console"))
