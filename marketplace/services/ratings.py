"""Entrepreneurs rate their mentor 1-5, after a session or when the voucher is completed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..domain import errors
from ..domain.models import Provider, Rating, SessionStatus, TrainingSession, VoucherStatus
from ..extensions import db
from . import unit


def rate(
    entrepreneur_id: int, ref: str, stars: int, channel: str, now: datetime | None = None
) -> Rating:
    """Rate the mentor of the session with this reference.

    The last session of a completed voucher rates the whole training (one per voucher); an earlier
    session rates that session (one per session).
    """
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise errors.InvalidInput("Give a rating from 1 to 5.", field="stars")
    with unit.of_work(f"entrepreneur:{entrepreneur_id}", now) as uow:
        session = db.session.scalar(
            sa.select(TrainingSession).where(
                TrainingSession.entrepreneur_id == entrepreneur_id,
                TrainingSession.ref == ref.strip(),
            )
        )
        if session is None:
            raise errors.UnknownSession(ref=ref.strip())
        if session.status != SessionStatus.CONFIRMED:
            raise errors.SessionNotRateable(ref=session.ref)
        voucher = session.voucher
        whole = (
            voucher.status == VoucherStatus.COMPLETED and session.sequence == voucher.sessions_total
        )
        rating = Rating(
            voucher_id=voucher.id,
            session_id=None if whole else session.id,
            provider_id=session.provider_id,
            entrepreneur_id=entrepreneur_id,
            programme_id=voucher.programme_id,
            provider_kind=session.provider.kind,
            stars=stars,
            channel=channel,
            created_at=uow.now,
        )
        db.session.add(rating)
        uow.flush_or(errors.AlreadyRated())
        db.session.execute(
            sa.update(Provider)
            .where(Provider.id == session.provider_id)
            .values(rating_sum=Provider.rating_sum + stars, rating_count=Provider.rating_count + 1)
            .execution_options(synchronize_session=False)
        )
        uow.audit(
            "provider.rated",
            ("provider", session.provider_id),
            None,
            {"stars": stars, "rating_id": rating.id, "whole_voucher": whole},
        )
    return rating


def rateable_sessions(
    entrepreneur_id: int, limit: int = 5, ref: str | None = None
) -> list[TrainingSession]:
    """Confirmed sessions not yet rated, newest first (only the one with `ref`, when given)."""
    rated = sa.select(Rating.session_id).where(
        Rating.entrepreneur_id == entrepreneur_id, Rating.session_id.is_not(None)
    )
    whole = sa.select(Rating.voucher_id).where(
        Rating.entrepreneur_id == entrepreneur_id, Rating.session_id.is_(None)
    )
    rows = db.session.scalars(
        sa.select(TrainingSession)
        .where(
            TrainingSession.entrepreneur_id == entrepreneur_id,
            TrainingSession.status == SessionStatus.CONFIRMED,
            TrainingSession.id.not_in(rated),
            TrainingSession.voucher_id.not_in(whole),
            TrainingSession.ref == ref if ref is not None else sa.true(),
        )
        .order_by(TrainingSession.confirmed_at.desc())
        .limit(limit)
    ).all()
    return list(rows)
