"""Deterministic demo data, made through the real services (nothing is written around them).

An orchestrator: it calls the use cases one after another, as people would, which use cases never
do to each other; `scheduler` is the only other (tests/test_architecture.py holds both rules).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..domain.base import utcnow
from ..domain.models import (
    Booking,
    BookingStatus,
    Provider,
    ProviderKind,
    ProviderStatus,
    StaffUser,
    TrainingSession,
)
from ..domain.people import NewEntrepreneur
from ..extensions import db
from . import (
    access,
    bookings,
    issuance,
    payout_account_changes,
    payouts,
    programmes,
    providers,
    ratings,
    reference,
    sessions,
    vouchers,
)
from .payout_account_changes import NewPayoutAccount
from .programmes import NewProgramme
from .providers import NewProvider
from .sessions import NewSession

ACTOR = "seed-demo"
# A change of payout account needs a second officer's approval: the demo's second pair of hands.
SECOND_ACTOR = "seed-demo-second-officer"
DEMO_PASSWORD = "demo-password-change-me"
FIRST = [
    "Wanjiru",
    "Achieng",
    "Kamau",
    "Otieno",
    "Njeri",
    "Mutua",
    "Akinyi",
    "Kiprono",
    "Atieno",
    "Mwangi",
    "Chebet",
    "Omondi",
    "Wambui",
    "Kipchoge",
    "Nafula",
    "Barasa",
    "Zawadi",
    "Juma",
]
LAST = [
    "Kariuki",
    "Odhiambo",
    "Mutiso",
    "Wekesa",
    "Njoroge",
    "Chege",
    "Owino",
    "Rotich",
    "Ali",
    "Mohamed",
    "Onyango",
    "Kimani",
    "Wafula",
    "Korir",
]
TOWNS = {
    "nairobi": "Gikomba",
    "kisumu": "Kondele",
    "mombasa": "Kongowea",
    "nakuru": "Bondeni",
    "kiambu": "Thika",
}
TRADES = ["tailoring", "carpentry", "metalwork", "motor-mechanics", "hairdressing", "electronics"]
INSTITUTES = ["Youth Polytechnic", "Technical Training Institute", "Vocational Centre"]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = f"+2547{rng.choice('0129')}{rng.randrange(10**7):07d}"
        if phone not in used:
            used.add(phone)
            return phone


def seed(seed: int = 7, now: datetime | None = None) -> list[str]:
    """Create the demo world; returns lines for the operator to read."""
    rng = random.Random(seed)
    now = now or utcnow()
    reference.load_reference_data("KE")
    used: set[str] = set()
    programme = programmes.create_programme(
        NewProgramme(
            name="Jua Kali Skills Vouchers",
            funder="Kenya Skills Fund",
            currency="KES",
            voucher_value_minor=1_000_000,
            sessions_per_voucher=4,
            co_payment_percent=10,
            validity_days=180,
            budget_minor=2_000_000_000,
            confirmation_window_hours=72,
            eligible_trades=[],
            eligible_regions=[],
        ),
        ACTOR,
        now - timedelta(days=400),
    )

    # Providers: craft workers and institutes across trades and towns.
    made: list[Provider] = []
    for region, town in TOWNS.items():
        for trade in TRADES:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            made.append(
                providers.register_provider(
                    NewProvider(
                        kind=ProviderKind.CRAFT_WORKER,
                        name=f"Fundi {name}",
                        phone=_phone(rng, used),
                        trades=[trade],
                        region=region,
                        town=town,
                        capacity=rng.choice([3, 4, 6]),
                    ),
                    ACTOR,
                    now - timedelta(days=390),
                )
            )
        made.append(
            providers.register_provider(
                NewProvider(
                    kind=ProviderKind.INSTITUTE,
                    name=f"{town} {rng.choice(INSTITUTES)}",
                    phone=_phone(rng, used),
                    trades=TRADES[:4],
                    region=region,
                    town=town,
                    capacity=30,
                    contact_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                ),
                ACTOR,
                now - timedelta(days=390),
            )
        )
    # Every provider is paid by M-Pesa at its own phone, proposed and approved by two people.
    for p in made:
        account = payout_account_changes.propose_payout_account(
            p.id, NewPayoutAccount(kind="mpesa", msisdn=p.phone), ACTOR, now - timedelta(days=389)
        )
        payout_account_changes.approve_payout_account(
            account.id, SECOND_ACTOR, now - timedelta(days=388)
        )
    for p in made[:-3]:
        providers.approve_provider(p.id, ACTOR, now - timedelta(days=385))
    providers.approve_provider(made[-2].id, ACTOR, now - timedelta(days=385))
    providers.suspend_provider(made[-2].id, ACTOR, now - timedelta(days=100))
    approved = [p for p in made if p.status == "approved"]

    people = []
    for i in range(48):
        region = rng.choice(list(TOWNS))
        trade = rng.choice(TRADES)
        person = NewEntrepreneur(
            phone=_phone(rng, used),
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            gender=rng.choice(["female", "female", "male"]),
            birth_year=rng.randrange(1970, 2006),
            trade=trade,
            region=region,
            language="sw" if i % 3 == 0 else "en",
        )
        people.append(person)

    # Vouchers that get sessions were issued long enough ago for weekly sessions to be past.
    issued_at = [
        now - timedelta(days=rng.randrange(50, 150) if 16 <= i < 38 else rng.randrange(5, 40))
        for i in range(len(people))
    ]
    issued_at[40:44] = [now - timedelta(days=200)] * 4  # these will expire
    demo_vouchers = [
        issuance.issue_voucher(programme.id, p, ACTOR, at)
        for p, at in zip(people, issued_at, strict=True)
    ]

    def provider_for(trade: str, region: str) -> Provider:
        local = [
            p for p in approved if trade in p.trade_codes and p.region_code == region and p.has_room
        ]
        anywhere = [p for p in approved if trade in p.trade_codes and p.has_room]
        return rng.choice(local or anywhere)

    # Vouchers 0-7 stay issued; 8-15 booked; 16-27 in progress; 28-37 completed; 38-39 revoked;
    # 40-43 expired (two part-used); 44-47 booked then switched.
    for idx, v in enumerate(demo_vouchers):
        person = people[idx]
        if idx < 8 or idx in (38, 39):
            continue
        t = issued_at[idx] + timedelta(days=rng.randrange(1, 4))
        listing = bookings.find_providers(
            v.entrepreneur_id, person.trade, person.region, channel="ussd", now=t
        )
        choice = (
            rng.choice(listing.providers)
            if listing.providers
            else provider_for(person.trade, person.region)
        )
        if idx >= 44:
            bookings.book_provider(
                v.entrepreneur_id,
                choice.id,
                v.id,
                channel="ussd",
                listing_id=listing.listing_id,
                now=t,
            )
            bookings.cancel_booking(
                v.entrepreneur_id, v.id, channel="sms", now=t + timedelta(hours=5)
            )
            t += timedelta(days=1)
            choice = provider_for(person.trade, person.region)
        bookings.book_provider(
            v.entrepreneur_id,
            choice.id,
            v.id,
            channel=rng.choice(["ussd", "ussd", "sms"]),
            listing_id=listing.listing_id,
            now=t,
        )
        if idx < 16 or idx >= 44:
            continue
        n_sessions = 4 if 28 <= idx < 38 else rng.randrange(1, 4)
        if idx in (42, 43):
            n_sessions = 2
        if idx in (40, 41):
            continue
        staff = db.session.get(Provider, choice.id).staff[0]  # type: ignore[union-attr]
        booking = bookings.active_booking(v.entrepreneur_id)
        assert booking is not None
        for n in range(n_sessions):
            at = t + timedelta(days=7 * (n + 1))
            s = sessions.record_session(
                staff.id,
                NewSession(
                    booking.id,
                    at.date(),
                    rng.choice([60, 90, 120, 180]),
                    rng.choice(
                        [
                            "Cutting patterns",
                            "Pricing and costing",
                            "Joinery basics",
                            "Customer care",
                            "Safety at work",
                            "Record keeping",
                        ]
                    ),
                    "Practised with the mentor",
                    "Practise at home",
                ),
                at,
            )
            sessions.answer_session(
                v.entrepreneur_id, s.ref, True, "sms", at + timedelta(hours=rng.randrange(1, 30))
            )
        if n_sessions == 4:
            ratings.rate(
                v.entrepreneur_id, s.ref, rng.choice([3, 4, 4, 5, 5]), "sms", at + timedelta(days=1)
            )
        elif idx in (16, 17):  # one session disputed, one still waiting for an answer
            at = t + timedelta(days=7 * (n_sessions + 1))
            s = sessions.record_session(
                staff.id, NewSession(booking.id, at.date(), 120, "Finishing", "", ""), at
            )
            if idx == 16:
                sessions.answer_session(
                    v.entrepreneur_id, s.ref, False, "sms", at + timedelta(hours=3)
                )
    for v in demo_vouchers[38:40]:
        vouchers.revoke_voucher(v.code, ACTOR, "duplicate registration", now - timedelta(days=20))
    vouchers.expire_vouchers(now)
    payouts.run_payout("KES", now - timedelta(days=30), ACTOR, now - timedelta(days=29))

    _staff_accounts(programme.funder, now)
    mentor = _busiest_mentor()
    lines = [
        f"Demo programme {programme.id}: {programme.name} ({programme.funder}).",
        f"{len(made)} providers, {len(demo_vouchers)} vouchers in every state.",
        "Dial the USSD menu or send SMS as these entrepreneurs:",
        *[
            f"  {people[i].phone}  ({people[i].name}, voucher {demo_vouchers[i].status})"
            for i in (0, 1, 9, 18)
        ],
        f"Mentor: {mentor.phone} ({mentor.name}): dial the USSD menu or send SMS as them, or"
        " sign in at /mentor; the phone simulator (/dev/phone) switches between one of their"
        " trainees and them.",
        f"Officer sign-in at /admin: admin@example.org / {DEMO_PASSWORD}",
        f"Funder sign-in at /funder: funder@example.org / {DEMO_PASSWORD}",
    ]
    return lines


def _busiest_mentor() -> Provider:
    """The approved provider with a trainee now and the most sessions recorded, so the mentor
    pages of the demo show bookings, sessions in several states and a statement."""
    active = sa.select(Booking.provider_id).where(Booking.status == BookingStatus.ACTIVE)
    busiest = db.session.scalars(
        sa.select(Provider)
        .join(TrainingSession, TrainingSession.provider_id == Provider.id)
        .where(Provider.status == ProviderStatus.APPROVED, Provider.id.in_(active))
        .group_by(Provider.id)
        .order_by(sa.func.count(TrainingSession.id).desc(), Provider.id)
        .limit(1)
    ).first()
    assert busiest is not None, "the demo gives some approved provider sessions and a trainee"
    return busiest


def _staff_accounts(funder: str, now: datetime) -> None:
    existing = set(db.session.scalars(sa.select(StaffUser.email)))
    if "admin@example.org" not in existing:
        access.create_staff_user(
            "admin@example.org", "Programme Officer", DEMO_PASSWORD, "admin", ACTOR, now=now
        )
    if "funder@example.org" not in existing:
        access.create_staff_user(
            "funder@example.org",
            "Funder Analyst",
            DEMO_PASSWORD,
            "funder",
            ACTOR,
            funder=funder,
            now=now,
        )
