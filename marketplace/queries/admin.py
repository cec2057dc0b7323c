"""What programme officers see: programmes, providers, the review queue and payout runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from ..domain.codes import format_voucher_code, normalise_voucher_code
from ..domain.models import (
    ACTIVE_VOUCHER_STATUSES,
    AuditEvent,
    Booking,
    Entrepreneur,
    OutboxMessage,
    Payout,
    PayoutAccount,
    PayoutAccountStatus,
    PayoutRun,
    Programme,
    Provider,
    ProviderStaff,
    ProviderStatus,
    SessionStatus,
    TrainingSession,
    Voucher,
)
from ..domain.phones import try_normalise
from ..extensions import db

PAGE = 200


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    name: str
    funder: str
    currency: str
    voucher_value_minor: int
    sessions_per_voucher: int
    budget_minor: int
    committed_minor: int
    vouchers_issued: int
    validity_days: int

    @property
    def available_minor(self) -> int:
        return self.budget_minor - self.committed_minor


def programmes() -> list[ProgrammeRow]:
    issued = (
        sa.select(Voucher.programme_id, sa.func.count().label("n"))
        .group_by(Voucher.programme_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Programme, sa.func.coalesce(issued.c.n, 0))
        .outerjoin(issued, issued.c.programme_id == Programme.id)
        .order_by(Programme.created_at.desc(), Programme.id.desc())
    ).all()
    return [
        ProgrammeRow(
            id=p.id,
            name=p.name,
            funder=p.funder,
            currency=p.currency,
            voucher_value_minor=p.voucher_value_minor,
            sessions_per_voucher=p.sessions_per_voucher,
            budget_minor=p.budget_minor,
            committed_minor=p.committed_minor,
            vouchers_issued=int(n),
            validity_days=p.validity_days,
        )
        for p, n in rows
    ]


def programme_choices() -> list[tuple[int, str]]:
    return [
        (i, n)
        for i, n in db.session.execute(
            sa.select(Programme.id, Programme.name).order_by(Programme.name)
        ).all()
    ]


def providers(status: str | None = None, search: str = "") -> list[Provider]:
    """Pending providers first (the approval queue), then by name."""
    pending_first = sa.case((Provider.status == ProviderStatus.PENDING, 0), else_=1)
    stmt = sa.select(Provider).order_by(pending_first, Provider.name, Provider.id).limit(PAGE)
    if status:
        stmt = stmt.where(Provider.status == status)
    if search.strip():
        term = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Provider.name).like(term),
                Provider.number == search.strip(),
                Provider.phone.like(term),
            )
        )
    return list(db.session.scalars(stmt))


def provider_counts() -> dict[str, int]:
    return {
        str(s): int(n)
        for s, n in db.session.execute(
            sa.select(Provider.status, sa.func.count()).group_by(Provider.status)
        ).all()
    }


@dataclass(frozen=True)
class ProviderHistory:
    """What a provider did so far, for the officer weighing one of its sessions."""

    sessions: int
    confirmed: int
    disputed: int
    held: int
    paid_minor: int
    trainees: int


@dataclass(frozen=True)
class ReviewRow:
    id: int
    ref: str
    provider_id: int
    provider_name: str
    provider_number: str
    provider_phone: str
    provider_status: str
    staff_name: str
    staff_phone: str
    entrepreneur_name: str
    entrepreneur_phone: str
    delivered_on: date
    starts_at: time | None
    duration_minutes: int
    topic: str
    outcomes: str
    action_points: str
    status: str
    flags: list[str]
    held: bool
    recorded_at: datetime
    answered_at: datetime | None
    answered_via: str | None
    value_minor: int
    currency: str
    history: ProviderHistory

    @property
    def answer_seconds(self) -> int | None:
        if self.answered_at is None:
            return None
        return int((self.answered_at - self.recorded_at).total_seconds())


REVIEW_PAGE = 50


def review_queue(page: int = 1) -> list[ReviewRow]:
    """One page of what waits for an officer (held or disputed), oldest first."""
    page = max(1, page)
    rows = db.session.execute(
        sa.select(TrainingSession, Entrepreneur.name, Entrepreneur.phone, ProviderStaff)
        .join(Entrepreneur, Entrepreneur.id == TrainingSession.entrepreneur_id)
        .outerjoin(ProviderStaff, ProviderStaff.id == TrainingSession.staff_id)
        .where(TrainingSession.waiting_for_review())
        .order_by(TrainingSession.recorded_at, TrainingSession.id)
        .offset((page - 1) * REVIEW_PAGE)
        .limit(REVIEW_PAGE)
    ).all()
    histories = _histories({s.provider_id for s, *_ in rows})
    return [
        ReviewRow(
            id=s.id,
            ref=s.ref,
            provider_id=s.provider_id,
            provider_name=s.provider.name,
            provider_number=s.provider.number,
            provider_phone=s.provider.phone,
            provider_status=s.provider.status,
            staff_name=staff.name if staff else "",
            staff_phone=staff.phone if staff else "",
            entrepreneur_name=ename,
            entrepreneur_phone=ephone,
            delivered_on=s.delivered_on,
            starts_at=s.starts_at,
            duration_minutes=s.duration_minutes,
            topic=s.topic,
            outcomes=s.outcomes,
            action_points=s.action_points,
            status=s.status,
            flags=list(s.flags or []),
            held=s.held,
            recorded_at=s.recorded_at,
            answered_at=s.answered_at,
            answered_via=s.answered_via,
            value_minor=s.value_minor,
            currency=s.currency,
            history=histories[s.provider_id],
        )
        for s, ename, ephone, staff in rows
    ]


def _histories(provider_ids: set[int]) -> dict[int, ProviderHistory]:
    if not provider_ids:
        return {}
    t = TrainingSession

    def count_of(cond: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    paid = sa.case((t.payout_id.is_not(None), t.value_minor), else_=0)
    rows = db.session.execute(
        sa.select(
            t.provider_id,
            sa.func.count(),
            count_of(t.status == SessionStatus.CONFIRMED),
            count_of(t.status == SessionStatus.DISPUTED),
            count_of(t.held.is_(True)),
            sa.func.coalesce(sa.func.sum(paid), 0),
            sa.func.count(sa.distinct(t.entrepreneur_id)),
        )
        .where(t.provider_id.in_(provider_ids))
        .group_by(t.provider_id)
    ).all()
    return {
        int(pid): ProviderHistory(int(n), int(c), int(d), int(h), int(p), int(e))
        for pid, n, c, d, h, p, e in rows
    }


def review_count() -> int:
    """Every session waiting for an officer, however many pages the queue takes."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(TrainingSession)
            .where(TrainingSession.waiting_for_review())
        )
        or 0
    )


def review_pages() -> int:
    return max(1, -(-review_count() // REVIEW_PAGE))


@dataclass(frozen=True)
class RunRow:
    id: int
    currency: str
    period_end: datetime
    created_at: datetime
    created_by: str
    total_minor: int
    payouts: int
    paid: int


def payout_runs() -> list[RunRow]:
    paid = sa.func.sum(sa.case((Payout.status == "paid", 1), else_=0))
    rows = db.session.execute(
        sa.select(PayoutRun, sa.func.count(Payout.id), sa.func.coalesce(paid, 0))
        .outerjoin(Payout, Payout.run_id == PayoutRun.id)
        .group_by(PayoutRun.id)
        .order_by(PayoutRun.id.desc())
        .limit(PAGE)
    ).all()
    return [
        RunRow(
            id=r.id,
            currency=r.currency,
            period_end=r.period_end,
            created_at=r.created_at,
            created_by=r.created_by,
            total_minor=r.total_minor,
            payouts=int(n),
            paid=int(p),
        )
        for r, n, p in rows
    ]


def run_payouts(run_id: int) -> list[Payout]:
    return list(
        db.session.scalars(sa.select(Payout).where(Payout.run_id == run_id).order_by(Payout.id))
    )


def held_for_review() -> int:
    """Confirmed sessions in no payout run that wait for an officer to review their flags."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).where(
                TrainingSession.status == SessionStatus.CONFIRMED,
                TrainingSession.payout_id.is_(None),
                TrainingSession.held.is_(True),
            )
        )
        or 0
    )


def unpaid_by_currency() -> list[tuple[str, int, int]]:
    """(currency, sessions, value) a payout run would pay now: confirmed, in no run, not held."""
    return [
        (str(c), int(n), int(v or 0))
        for c, n, v in db.session.execute(
            sa.select(
                TrainingSession.currency, sa.func.count(), sa.func.sum(TrainingSession.value_minor)
            )
            .where(TrainingSession.payable())
            .group_by(TrainingSession.currency)
            .order_by(TrainingSession.currency)
        ).all()
    ]


@dataclass(frozen=True)
class WaitingAccount:
    """A change of payout account waiting for a second officer, beside the account it replaces."""

    account: PayoutAccount
    provider: Provider
    current: PayoutAccount | None


def payout_accounts_waiting(limit: int = PAGE) -> list[WaitingAccount]:
    """Changes of payout account waiting for approval, oldest first."""
    current = sa.orm.aliased(PayoutAccount)
    rows = db.session.execute(
        sa.select(PayoutAccount, Provider, current)
        .join(Provider, Provider.id == PayoutAccount.provider_id)
        .outerjoin(
            current,
            sa.and_(
                current.provider_id == PayoutAccount.provider_id,
                current.status == PayoutAccountStatus.APPROVED,
            ),
        )
        .where(PayoutAccount.status == PayoutAccountStatus.PENDING)
        .order_by(PayoutAccount.proposed_at, PayoutAccount.id)
        .limit(limit)
    ).all()
    return [WaitingAccount(account, provider, old) for account, provider, old in rows]


# --------------------------------------------------------------------------- one person

FOUND = 50  # people a search lists
TRAIL = 200  # audit events and SMS a person's page lists


@dataclass(frozen=True)
class PersonHit:
    id: int
    name: str
    phone: str
    trade: str
    region: str
    vouchers: int
    matched_code: str | None  # the voucher code searched for, when the search was one


def find_people(term: str, phone_region: str) -> list[PersonHit]:
    """Entrepreneurs by voucher code, by phone (any spelling a person types it in) or by name
    (every word of the search in the name, any case)."""
    term = " ".join(term.split())
    if not term:
        return []
    code = normalise_voucher_code(term)
    if code is not None:
        owner = db.session.scalar(sa.select(Voucher.entrepreneur_id).where(Voucher.code == code))
        return [] if owner is None else _hits(Entrepreneur.id == owner, code)
    phone = try_normalise(term, phone_region) if not any(c.isalpha() for c in term) else None
    if phone is not None:
        return _hits(Entrepreneur.phone == phone)
    words = [w.lower() for w in term.split() if any(c.isalnum() for c in w)][:6]
    if not words:
        return []
    return _hits(
        sa.and_(
            *(sa.func.lower(Entrepreneur.name).like(f"%{_escaped(w)}%", escape="\\") for w in words)
        )
    )


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _hits(where: Any, code: str | None = None) -> list[PersonHit]:
    vouchers = (
        sa.select(sa.func.count())
        .where(Voucher.entrepreneur_id == Entrepreneur.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Entrepreneur, vouchers)
        .where(where)
        .order_by(Entrepreneur.name, Entrepreneur.id)
        .limit(FOUND)
    ).all()
    return [
        PersonHit(e.id, e.name, e.phone, e.trade_code, e.region_code, int(n), code) for e, n in rows
    ]


@dataclass(frozen=True)
class VoucherLine:
    code: str
    status: str
    programme_id: int
    programme_name: str
    value_minor: int
    currency: str
    sessions_total: int
    sessions_confirmed: int
    issued_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    sms_id: int | None  # the SMS that gave the code, to send again

    @property
    def revocable(self) -> bool:
        return self.status in ACTIVE_VOUCHER_STATUSES


@dataclass(frozen=True)
class BookingLine:
    voucher_code: str
    provider_id: int
    provider_name: str
    provider_number: str
    status: str
    channel: str
    created_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class SessionLine:
    id: int
    ref: str
    voucher_code: str
    provider_name: str
    delivered_on: date
    duration_minutes: int
    topic: str
    status: str
    value_minor: int
    currency: str
    answered_via: str | None


@dataclass(frozen=True)
class TrailLine:
    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class PersonPage:
    person: Entrepreneur
    vouchers: list[VoucherLine]
    bookings: list[BookingLine]
    sessions: list[SessionLine]
    sms: list[OutboxMessage]
    trail: list[TrailLine]


def person(entrepreneur_id: int) -> PersonPage | None:
    """One entrepreneur as an officer helping them needs them: their vouchers, bookings, sessions,
    the SMS written to them (newest first, with their state) and the audit trail of the person,
    their vouchers, their sessions and those SMS (newest first)."""
    found = db.session.get(Entrepreneur, entrepreneur_id)
    if found is None:
        return None
    sms = list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.to_phone == found.phone)
            .order_by(OutboxMessage.id.desc())
            .limit(TRAIL)
        )
    )
    vouchers = [
        _voucher_line(v, sms)
        for v in db.session.scalars(
            sa.select(Voucher)
            .where(Voucher.entrepreneur_id == found.id)
            .order_by(Voucher.issued_at.desc(), Voucher.id.desc())
        )
    ]
    bookings = [
        BookingLine(
            b.voucher.code,
            b.provider_id,
            b.provider.name,
            b.provider.number,
            b.status,
            b.channel,
            b.created_at,
            b.ended_at,
        )
        for b in db.session.scalars(
            sa.select(Booking)
            .join(Voucher, Voucher.id == Booking.voucher_id)
            .where(Voucher.entrepreneur_id == found.id)
            .order_by(Booking.created_at.desc(), Booking.id.desc())
        )
    ]
    sessions = [
        SessionLine(
            s.id,
            s.ref,
            s.voucher.code,
            s.provider.name,
            s.delivered_on,
            s.duration_minutes,
            s.topic,
            s.status,
            s.value_minor,
            s.currency,
            s.answered_via,
        )
        for s in db.session.scalars(
            sa.select(TrainingSession)
            .where(TrainingSession.entrepreneur_id == found.id)
            .order_by(TrainingSession.delivered_on.desc(), TrainingSession.id.desc())
        )
    ]
    voucher_ids = db.session.scalars(
        sa.select(Voucher.id).where(Voucher.entrepreneur_id == found.id)
    ).all()
    entities = {
        "entrepreneur": [found.id],
        "voucher": list(voucher_ids),
        "session": [s.id for s in sessions],
        "sms": [m.id for m in sms],
    }
    return PersonPage(found, vouchers, bookings, sessions, sms, _trail(entities))


def _voucher_line(v: Voucher, sms: list[OutboxMessage]) -> VoucherLine:
    shown = format_voucher_code(v.code)
    sms_id = next((m.id for m in sms if m.kind == "voucher_issued" and shown in m.body), None)
    return VoucherLine(
        v.code,
        v.status,
        v.programme_id,
        v.programme.name,
        v.value_minor,
        v.currency,
        v.sessions_total,
        v.sessions_confirmed,
        v.issued_at,
        v.expires_at,
        v.ended_at,
        sms_id,
    )


def _trail(entities: dict[str, list[int]]) -> list[TrailLine]:
    which = [
        sa.and_(AuditEvent.entity_type == kind, AuditEvent.entity_id.in_([str(i) for i in ids]))
        for kind, ids in entities.items()
        if ids
    ]
    events = db.session.scalars(
        sa.select(AuditEvent).where(sa.or_(*which)).order_by(AuditEvent.seq.desc()).limit(TRAIL)
    )
    return [
        TrailLine(e.seq, e.at, e.actor, e.action, e.entity_type, e.entity_id, e.before, e.after)
        for e in events
    ]
