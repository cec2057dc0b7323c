"""Test data built through the real services, with readable defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from marketplace.domain.models import (
    Booking,
    PayoutAccount,
    Programme,
    Provider,
    TrainingSession,
    Voucher,
)
from marketplace.domain.models.programmes import DEFAULT_TIME_ZONE
from marketplace.domain.people import NewEntrepreneur
from marketplace.extensions import db
from marketplace.services import (
    access,
    bookings,
    issuance,
    payout_account_changes,
    programmes,
    providers,
    sessions,
)
from marketplace.services.payout_account_changes import NewPayoutAccount
from marketplace.services.programmes import NewProgramme
from marketplace.services.providers import NewProvider
from marketplace.services.sessions import NewSession

_numbers = itertools.count(1)


def next_phone() -> str:
    """A fresh valid Kenyan mobile number."""
    return f"+2547{next(_numbers) % 10**8:08d}".replace("+2547000", "+2547100")


class Builders:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def programme(self, **overrides: Any) -> Programme:
        fields: dict[str, Any] = {
            "name": f"Programme {next(_numbers)}",
            "funder": "Skills Fund",
            "currency": "KES",
            "voucher_value_minor": 400_000,
            "sessions_per_voucher": 4,
            "validity_days": 90,
            "budget_minor": 100_000_000,
            "co_payment_percent": 10,
        }
        fields.update(overrides)
        return programmes.create_programme(NewProgramme(**fields), "test")

    def provider(self, *, approved: bool = True, **overrides: Any) -> Provider:
        fields: dict[str, Any] = {
            "kind": "craft_worker",
            "name": f"Fundi {next(_numbers)}",
            "phone": next_phone(),
            "trades": ["tailoring"],
            "region": "nairobi",
            "town": "Gikomba",
            "capacity": 5,
        }
        fields.update(overrides)
        provider = providers.register_provider(NewProvider(**fields), "test")
        if approved:
            providers.approve_provider(provider.id, "test")
        return provider

    def payout_account(self, provider: Provider, **fields: Any) -> PayoutAccount:
        """An approved payout account (M-Pesa at the provider's phone unless told otherwise),
        proposed by one officer and approved by another."""
        fields = {"kind": "mpesa", "msisdn": provider.phone, **fields}
        proposed = payout_account_changes.propose_payout_account(
            provider.id, NewPayoutAccount(**fields), "staff:proposer@example.org"
        )
        return payout_account_changes.approve_payout_account(
            proposed.id, "staff:approver@example.org"
        )

    def person(self, **overrides: Any) -> NewEntrepreneur:
        fields: dict[str, Any] = {
            "phone": next_phone(),
            "name": "Amina Wanjiru",
            "gender": "female",
            "birth_year": 1994,
            "trade": "tailoring",
            "region": "nairobi",
            "language": "en",
        }
        fields.update(overrides)
        return NewEntrepreneur(**fields)

    def voucher(
        self, programme: Programme | None = None, now: datetime | None = None, **person: Any
    ) -> Voucher:
        programme = programme or self.programme()
        # Issued a week before unless said: a session is never dated before its voucher was
        # issued, and tests record sessions of the last days.
        issued_at = now or datetime.now(UTC) - timedelta(days=7)
        return issuance.issue_voucher(programme.id, self.person(**person), "test", now=issued_at)

    def booking(
        self,
        voucher: Voucher | None = None,
        provider: Provider | None = None,
        now: datetime | None = None,
    ) -> Booking:
        voucher = voucher or self.voucher(now=now)
        provider = provider or self.provider()
        return bookings.book_provider(voucher.entrepreneur_id, provider.id, voucher.id, now=now)

    def recorded_session(
        self, booking: Booking | None = None, now: datetime | None = None, **overrides: Any
    ) -> TrainingSession:
        # What the session needs, made when it was recorded: never after it.
        booking = booking or self.booking(now=now)
        staff = db.session.get(Provider, booking.provider_id).staff[0]  # type: ignore[union-attr]
        now = now or datetime.now(UTC)
        fields: dict[str, Any] = {
            "booking_id": booking.id,
            "delivered_on": local_day(now),
            "duration_minutes": 90,
            "topic": f"Cutting patterns, part {next(_numbers)}",  # each a session of its own
        }
        fields.update(overrides)
        return sessions.record_session(staff.id, NewSession(**fields), now=now)

    def confirmed_session(
        self, booking: Booking | None = None, now: datetime | None = None
    ) -> TrainingSession:
        s = self.recorded_session(booking, now=now)
        later = (now or datetime.now(UTC)) + timedelta(minutes=5)
        return sessions.answer_session(s.entrepreneur_id, s.ref, True, "sms", now=later)

    def api_key(self, role: str = "admin", funder: str | None = None) -> str:
        _key, token = access.create_api_key(
            f"{role} key {next(_numbers)}", role, "test", funder=funder
        )
        return token

    def staff_user(
        self,
        role: str = "admin",
        funder: str | None = None,
        password: str = "correct horse battery",
    ) -> Any:
        return access.create_staff_user(
            f"{role}{next(_numbers)}@example.org", "Officer", password, role, "test", funder=funder
        )


def local_day(moment: datetime) -> date:
    """The day it is at `moment` where the programmes run (their days are Nairobi's)."""
    return moment.astimezone(ZoneInfo(DEFAULT_TIME_ZONE)).date()


def today() -> date:
    """Today where the programmes run."""
    return local_day(datetime.now(UTC))
