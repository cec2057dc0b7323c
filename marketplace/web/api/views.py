"""API routes: validate with a schema, call one service, dump with a schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify, request

from ...domain import errors
from ...domain.models import (
    Entrepreneur,
    PayoutRun,
    Programme,
    Provider,
    Role,
    TrainingSession,
    Voucher,
    provider_trades,
)
from ...domain.phones import try_normalise
from ...extensions import db
from ...services import entrepreneurs, payouts, programmes, providers, sessions, settings, vouchers
from ...services.entrepreneurs import NewEntrepreneur
from ...services.programmes import NewProgramme
from ...services.providers import NewProvider
from . import actor, bp, error_response, funder_scope, load, requires
from . import schemas as s

MAX_CSV_BYTES = 20 * 1024 * 1024


def _created(payload: Any) -> tuple[Response, int]:
    return jsonify(payload), 201


def _page(items: list[Any], dumped: list[Any], limit: int) -> dict[str, Any]:
    next_after = items[-1].id if len(items) == limit else None
    return {"items": dumped, "next_after_id": next_after}


# --------------------------------------------------------------------------- programmes


def _visible_programme(programme_id: int) -> Programme:
    programme = programmes.get_programme(programme_id)
    scope = funder_scope()
    if scope is not None and programme.funder != scope:
        raise errors.NotFound("No such programme.")
    return programme


@bp.get("/programmes")
@requires(Role.ADMIN, Role.FUNDER)
def list_programmes() -> Any:
    stmt = sa.select(Programme).order_by(Programme.id)
    scope = funder_scope()
    if scope is not None:
        stmt = stmt.where(Programme.funder == scope)
    items = db.session.scalars(stmt).all()
    return jsonify(items=s.ProgrammeOut(many=True).dump(items))


@bp.post("/programmes")
@requires(Role.ADMIN)
def create_programme() -> Any:
    data = load(s.ProgrammeIn())
    programme = programmes.create_programme(NewProgramme(**data), actor())
    return _created(s.ProgrammeOut().dump(programme))


@bp.get("/programmes/<int:programme_id>")
@requires(Role.ADMIN, Role.FUNDER)
def get_programme(programme_id: int) -> Any:
    return jsonify(s.ProgrammeOut().dump(_visible_programme(programme_id)))


# --------------------------------------------------------------------------- providers


@bp.get("/providers")
@requires(Role.ADMIN)
def list_providers() -> Any:
    q = load(s.ProviderQuery(), source="args")
    stmt = sa.select(Provider).where(Provider.id > q["after_id"]).order_by(Provider.id)
    for column, key in (
        (Provider.status, "status"),
        (Provider.kind, "kind"),
        (Provider.region_code, "region"),
    ):
        if q.get(key):
            stmt = stmt.where(column == q[key])
    if q.get("trade"):
        stmt = stmt.where(
            Provider.id.in_(
                sa.select(provider_trades.c.provider_id).where(
                    provider_trades.c.trade_code == q["trade"]
                )
            )
        )
    items = list(db.session.scalars(stmt.limit(q["limit"])).all())
    return jsonify(_page(items, s.ProviderOut(many=True).dump(items), q["limit"]))


@bp.post("/providers")
@requires(Role.ADMIN)
def create_provider() -> Any:
    data = load(s.ProviderIn())
    provider = providers.register_provider(NewProvider(**data), actor())
    return _created(s.ProviderOut().dump(provider))


@bp.get("/providers/<int:provider_id>")
@requires(Role.ADMIN)
def get_provider(provider_id: int) -> Any:
    return jsonify(s.ProviderOut().dump(providers.get_provider(provider_id)))


@bp.post("/providers/<int:provider_id>/approve")
@requires(Role.ADMIN)
def approve_provider(provider_id: int) -> Any:
    return jsonify(s.ProviderOut().dump(providers.approve_provider(provider_id, actor())))


@bp.post("/providers/<int:provider_id>/suspend")
@requires(Role.ADMIN)
def suspend_provider(provider_id: int) -> Any:
    return jsonify(s.ProviderOut().dump(providers.suspend_provider(provider_id, actor())))


# --------------------------------------------------------------------------- entrepreneurs


@bp.get("/entrepreneurs")
@requires(Role.ADMIN)
def find_entrepreneur() -> Any:
    raw = load(s.EntrepreneurQuery(), source="args")["phone"]
    phone = try_normalise(raw, settings.phone_region())
    if phone is None:
        raise errors.InvalidInput("Give a valid ?phone=", field="phone")
    person = db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == phone))
    return jsonify(items=s.EntrepreneurOut(many=True).dump([person] if person else []))


@bp.get("/entrepreneurs/<int:entrepreneur_id>")
@requires(Role.ADMIN)
def get_entrepreneur(entrepreneur_id: int) -> Any:
    person = db.session.get(Entrepreneur, entrepreneur_id)
    if person is None:
        raise errors.NotFound("No such entrepreneur.")
    return jsonify(s.EntrepreneurOut().dump(person))


@bp.patch("/entrepreneurs/<int:entrepreneur_id>")
@requires(Role.ADMIN)
def change_entrepreneur(entrepreneur_id: int) -> Any:
    """Change the person's trade or region: its own audited step, never a side effect of issuing."""
    data = load(s.EntrepreneurChangeIn())
    person = entrepreneurs.change_trade_region(
        entrepreneur_id, actor(), trade=data.get("trade"), region=data.get("region")
    )
    return jsonify(s.EntrepreneurOut().dump(person))


# --------------------------------------------------------------------------- vouchers


@bp.post("/programmes/<int:programme_id>/vouchers")
@requires(Role.ADMIN)
def issue_voucher(programme_id: int) -> Any:
    data = load(s.VoucherIn())
    ref = data.pop("ref", None)
    key = vouchers.import_key_for_ref(ref) if ref else None
    if key is not None:
        existing = db.session.scalar(
            sa.select(Voucher).where(
                Voucher.programme_id == programme_id, Voucher.import_key == key
            )
        )
        if existing is not None:  # the same request again: answer as before, issue nothing
            return jsonify(s.VoucherOut().dump(existing)), 200
    voucher = vouchers.issue_voucher(programme_id, NewEntrepreneur(**data), actor(), import_key=key)
    return _created(s.VoucherOut().dump(voucher))


@bp.post("/programmes/<int:programme_id>/vouchers/import")
@requires(Role.ADMIN)
def import_vouchers(programme_id: int) -> Any:
    upload = request.files.get("file")
    data = upload.read(MAX_CSV_BYTES + 1) if upload else request.get_data(cache=False)
    if not data:
        raise errors.InvalidInput("Send the CSV as the request body or as a 'file' upload.")
    if len(data) > MAX_CSV_BYTES:
        raise errors.InvalidInput("The file is larger than 20 MB; split it.")
    report = vouchers.import_vouchers(programme_id, data, actor())
    if report.errors and not report.issued:
        # Nothing issued: an error, in the one error shape, naming every bad row.
        return error_response(
            422,
            "invalid_rows",
            f"No voucher was issued: {len(report.errors)} rows have errors.",
            {
                "rows": s.ImportRowError(many=True).dump(report.errors),
                "already_issued_lines": report.already_issued,
            },
        )
    body = s.ImportReportOut().dump(
        {
            "issued_count": len(report.issued),
            "already_issued_count": len(report.already_issued),
            "error_count": len(report.errors),
            "issued": report.issued,
            "already_issued_lines": report.already_issued,
            "errors": report.errors,
        }
    )
    return jsonify(body), 201 if report.issued else 200


@bp.get("/vouchers")
@requires(Role.ADMIN)
def list_vouchers() -> Any:
    q = load(s.VoucherQuery(), source="args")
    stmt = sa.select(Voucher).where(Voucher.id > q["after_id"]).order_by(Voucher.id)
    if q.get("programme_id"):
        stmt = stmt.where(Voucher.programme_id == q["programme_id"])
    if q.get("status"):
        stmt = stmt.where(Voucher.status == q["status"])
    if q.get("phone"):
        phone = try_normalise(q["phone"], settings.phone_region())
        if phone is None:
            raise errors.InvalidInput("Enter a valid phone number.", field="phone")
        stmt = stmt.join(Entrepreneur).where(Entrepreneur.phone == phone)
    items = list(db.session.scalars(stmt.limit(q["limit"])).all())
    return jsonify(_page(items, s.VoucherOut(many=True).dump(items), q["limit"]))


@bp.get("/vouchers/<code>")
@requires(Role.ADMIN)
def get_voucher(code: str) -> Any:
    return jsonify(s.VoucherOut().dump(vouchers.find_voucher(code)))


@bp.post("/vouchers/<code>/revoke")
@requires(Role.ADMIN)
def revoke_voucher(code: str) -> Any:
    data = load(s.RevokeIn()) if request.get_data() else {"reason": ""}
    voucher = vouchers.revoke_voucher(code, actor(), data["reason"])
    return jsonify(s.VoucherOut().dump(voucher))


# --------------------------------------------------------------------------- sessions


@bp.get("/sessions")
@requires(Role.ADMIN)
def list_sessions() -> Any:
    q = load(s.SessionQuery(), source="args")
    stmt = (
        sa.select(TrainingSession)
        .where(TrainingSession.id > q["after_id"])
        .order_by(TrainingSession.id)
    )
    for column, key in (
        (TrainingSession.status, "status"),
        (TrainingSession.programme_id, "programme_id"),
        (TrainingSession.provider_id, "provider_id"),
    ):
        if q.get(key):
            stmt = stmt.where(column == q[key])
    if q["needs_review"]:
        stmt = stmt.where(TrainingSession.reviewed_at.is_(None)).where(
            sa.or_(
                TrainingSession.status == "disputed",
                sa.func.coalesce(sa.cast(TrainingSession.flags, sa.String), "[]") != "[]",
            )
        )
    items = list(db.session.scalars(stmt.limit(q["limit"])).all())
    return jsonify(_page(items, s.SessionOut(many=True).dump(items), q["limit"]))


@bp.post("/sessions/<int:session_id>/review")
@requires(Role.ADMIN)
def review_session(session_id: int) -> Any:
    data = load(s.ReviewIn())
    session = sessions.review_session(session_id, data["decision"], data["note"], actor())
    return jsonify(s.SessionOut().dump(session))


# --------------------------------------------------------------------------- payouts


@bp.get("/payouts")
@requires(Role.ADMIN)
def list_payout_runs() -> Any:
    runs = db.session.scalars(sa.select(PayoutRun).order_by(PayoutRun.id.desc()).limit(100)).all()
    return jsonify(items=s.PayoutRunOut(many=True).dump(runs))


@bp.post("/payouts")
@requires(Role.ADMIN)
def create_payout_run() -> Any:
    data = load(s.PayoutRunIn())
    period_end = data["period_end"] or datetime.now(UTC)
    if period_end.tzinfo is None:
        period_end = period_end.replace(tzinfo=UTC)
    run = payouts.run_payout(data["currency"], period_end, actor())
    if run is None:
        raise errors.IllegalTransition("Nothing to pay: no confirmed, unpaid sessions.")
    return _created(s.PayoutRunOut().dump(run))


@bp.get("/payouts/<int:run_id>")
@requires(Role.ADMIN)
def get_payout_run(run_id: int) -> Any:
    return jsonify(s.PayoutRunOut().dump(payouts.get_run(run_id)))


@bp.get("/payouts/<int:run_id>/csv")
@requires(Role.ADMIN)
def payout_run_csv(run_id: int) -> Response:
    return Response(
        payouts.run_csv(run_id),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=payout-run-{run_id}.csv"},
    )


@bp.post("/payouts/statements/<int:payout_id>/paid")
@requires(Role.ADMIN)
def mark_statement_paid(payout_id: int) -> Any:
    data = load(s.PaidIn())
    return jsonify(s.PayoutOut().dump(payouts.mark_paid(payout_id, data["reference"], actor())))
