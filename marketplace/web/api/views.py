"""API routes: validate with a schema, call one service or query, dump with a schema.

The decorators are the contract and the document: `@bp.arguments` (the body or the query, read
after `requires` has checked the key), `@bp.response` (the success status and what it dumps),
`@bp.alt_response` (a second success status), and the docstring's line is the summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, request

from ...domain import errors
from ...domain.models import Entrepreneur, Programme, Role
from ...domain.people import NewEntrepreneur
from ...domain.phones import try_normalise
from ...extensions import db
from ...queries import api as lists
from ...services import (
    entrepreneurs,
    issuance,
    lookups,
    payout_account_changes,
    payouts,
    programmes,
    providers,
    sessions,
    settings,
    vouchers,
)
from ...services.payout_account_changes import NewPayoutAccount
from ...services.programmes import NewProgramme
from ...services.providers import NewProvider
from . import actor, bp, error_response, funder_scope, openapi, requires
from . import schemas as s

MAX_CSV_BYTES = 20 * 1024 * 1024

_CSV = {"text/csv": {"schema": {"type": "string"}}}


def _page(items: list[Any], limit: int) -> dict[str, Any]:
    next_after = items[-1].id if len(items) == limit else None
    return {"items": items, "next_after_id": next_after}


def _phone(raw: str, message: str) -> str:
    phone = try_normalise(raw, settings.phone_region())
    if phone is None:
        raise errors.InvalidInput(message, field="phone")
    return phone


# --------------------------------------------------------------------------- programmes


def _visible_programme(programme_id: int) -> Programme:
    programme = programmes.get_programme(programme_id)
    scope = funder_scope()
    if scope is not None and programme.funder != scope:
        raise errors.NotFound("No such programme.")
    return programme


@bp.get("/programmes")
@requires(Role.ADMIN, Role.FUNDER)
@bp.response(200, s.ProgrammeList)
def list_programmes() -> Any:
    """List programmes (a funder key sees its own)"""
    return {"items": lists.programmes(funder_scope())}


@bp.post("/programmes")
@requires(Role.ADMIN)
@bp.arguments(s.ProgrammeIn)
@bp.response(201, s.ProgrammeOut)
def create_programme(data: dict[str, Any]) -> Any:
    """Create a programme"""
    return programmes.create_programme(NewProgramme(**data), actor())


@bp.get("/programmes/<int:programme_id>")
@requires(Role.ADMIN, Role.FUNDER)
@bp.response(200, s.ProgrammeOut)
def get_programme(programme_id: int) -> Any:
    """One programme"""
    return _visible_programme(programme_id)


# --------------------------------------------------------------------------- providers


@bp.get("/providers")
@requires(Role.ADMIN)
@bp.arguments(s.ProviderQuery, location="query")
@bp.response(200, s.ProviderPage)
def list_providers(q: dict[str, Any]) -> Any:
    """List providers"""
    return _page(lists.providers(**q), q["limit"])


@bp.post("/providers")
@requires(Role.ADMIN)
@bp.arguments(s.ProviderIn)
@bp.response(201, s.ProviderOut)
def create_provider(data: dict[str, Any]) -> Any:
    """Register a provider (status pending)"""
    return providers.register_provider(NewProvider(**data), actor())


@bp.get("/providers/<int:provider_id>")
@requires(Role.ADMIN)
@bp.response(200, s.ProviderOut)
def get_provider(provider_id: int) -> Any:
    """One provider"""
    return lookups.provider(provider_id)


@bp.post("/providers/<int:provider_id>/approve")
@requires(Role.ADMIN)
@bp.response(200, s.ProviderOut)
def approve_provider(provider_id: int) -> Any:
    """Approve a provider"""
    return providers.approve_provider(provider_id, actor())


@bp.post("/providers/<int:provider_id>/suspend")
@requires(Role.ADMIN)
@bp.response(200, s.ProviderOut)
def suspend_provider(provider_id: int) -> Any:
    """Suspend a provider"""
    return providers.suspend_provider(provider_id, actor())


# --------------------------------------------------------------------------- payout accounts
# Where a provider's money goes: proposed with one key, approved with another (the same actor is
# refused, 403 second_officer_required); only the approved account is paid.


@bp.get("/providers/<int:provider_id>/payout-account")
@requires(Role.ADMIN)
@bp.response(200, s.ProviderPayoutAccounts)
def get_payout_account(provider_id: int) -> Any:
    """A provider's approved payout account and the change waiting, if any"""
    return lists.payout_accounts_of(lookups.provider(provider_id).id)


@bp.post("/providers/<int:provider_id>/payout-account/mpesa")
@requires(Role.ADMIN)
@bp.arguments(s.MpesaAccountIn)
@bp.response(201, s.PayoutAccountOut)
def propose_mpesa_account(data: dict[str, Any], provider_id: int) -> Any:
    """Propose an M-Pesa number as the provider's payout account (waits for approval)"""
    account = NewPayoutAccount(kind="mpesa", msisdn=data["msisdn"])
    return payout_account_changes.propose_payout_account(provider_id, account, actor())


@bp.post("/providers/<int:provider_id>/payout-account/bank")
@requires(Role.ADMIN)
@bp.arguments(s.BankAccountIn)
@bp.response(201, s.PayoutAccountOut)
def propose_bank_account(data: dict[str, Any], provider_id: int) -> Any:
    """Propose a bank account as the provider's payout account (waits for approval)"""
    account = NewPayoutAccount(kind="bank", **data)
    return payout_account_changes.propose_payout_account(provider_id, account, actor())


@bp.get("/payout-accounts")
@requires(Role.ADMIN)
@bp.response(200, s.PayoutAccountList)
def list_payout_accounts_waiting() -> Any:
    """Changes of payout account waiting for approval"""
    return {"items": lists.payout_accounts_waiting()}


@bp.post("/payout-accounts/<int:account_id>/approve")
@requires(Role.ADMIN)
@bp.response(200, s.PayoutAccountOut)
def approve_payout_account(account_id: int) -> Any:
    """Approve a change of payout account (not by whoever proposed it)"""
    return payout_account_changes.approve_payout_account(account_id, actor())


@bp.post("/payout-accounts/<int:account_id>/refuse")
@requires(Role.ADMIN)
@bp.response(200, s.PayoutAccountOut)
def refuse_payout_account(account_id: int) -> Any:
    """Refuse a change of payout account"""
    return payout_account_changes.refuse_payout_account(account_id, actor())


# --------------------------------------------------------------------------- entrepreneurs


@bp.get("/entrepreneurs")
@requires(Role.ADMIN)
@bp.arguments(s.EntrepreneurQuery, location="query")
@bp.response(200, s.EntrepreneurList)
def find_entrepreneur(q: dict[str, Any]) -> Any:
    """Find an entrepreneur by ?phone="""
    person = lists.entrepreneur_by_phone(_phone(q["phone"], "Give a valid ?phone="))
    return {"items": [person] if person else []}


@bp.get("/entrepreneurs/<int:entrepreneur_id>")
@requires(Role.ADMIN)
@bp.response(200, s.EntrepreneurOut)
def get_entrepreneur(entrepreneur_id: int) -> Any:
    """One entrepreneur"""
    person = db.session.get(Entrepreneur, entrepreneur_id)
    if person is None:
        raise errors.NotFound("No such entrepreneur.")
    return person


@bp.patch("/entrepreneurs/<int:entrepreneur_id>")
@requires(Role.ADMIN)
@bp.arguments(s.EntrepreneurChangeIn)
@bp.response(200, s.EntrepreneurOut)
def change_entrepreneur(data: dict[str, Any], entrepreneur_id: int) -> Any:
    """Change an entrepreneur's trade or region (audited; refused while a voucher they hold would no longer be covered)"""
    return entrepreneurs.change_trade_region(
        entrepreneur_id, actor(), trade=data.get("trade"), region=data.get("region")
    )


# --------------------------------------------------------------------------- vouchers


@bp.post("/programmes/<int:programme_id>/vouchers")
@requires(Role.ADMIN)
@bp.arguments(s.VoucherIn)
@bp.response(201, s.VoucherOut)
@bp.alt_response(
    200,
    schema=s.VoucherOut,
    description="This `ref` was sent before: the voucher issued then, and nothing issued now.",
)
def issue_voucher(data: dict[str, Any], programme_id: int) -> Any:
    """Issue one voucher (registers the entrepreneur when new)"""
    ref = data.pop("ref", None)
    person = NewEntrepreneur(**data)
    if not ref:
        return issuance.issue_voucher(programme_id, person, actor())
    issued = issuance.issue_voucher_for_ref(programme_id, person, actor(), ref)
    return issued.voucher, 201 if issued.new else 200


@bp.post("/programmes/<int:programme_id>/vouchers/import")
@requires(Role.ADMIN)
@bp.doc(
    requestBody={
        "required": True,
        "description": openapi.CSV_BODY,
        "content": {
            "text/csv": {
                "schema": {"type": "string", "minLength": 1, "example": openapi.CSV_EXAMPLE}
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "minLength": 1}},
                }
            },
        },
    }
)
@bp.response(201, s.ImportReportOut)
@bp.alt_response(
    200,
    schema=s.ImportReportOut,
    description="Nothing new issued: every row was issued before (the same file sent again). "
    "201 when at least one row was issued now.",
)
def import_vouchers(programme_id: int) -> Any:
    """Issue vouchers from CSV (text/csv body or multipart 'file'); per-row report"""
    upload = request.files.get("file")
    data = upload.read(MAX_CSV_BYTES + 1) if upload else request.get_data(cache=False)
    if not data:
        raise errors.InvalidInput("Send the CSV as the request body or as a 'file' upload.")
    if len(data) > MAX_CSV_BYTES:
        raise errors.InvalidInput("The file is larger than 20 MB; split it.")
    report = issuance.import_vouchers(programme_id, data, actor())
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
    body = {
        "issued_count": len(report.issued),
        "already_issued_count": len(report.already_issued),
        "error_count": len(report.errors),
        "issued": report.issued,
        "already_issued_lines": report.already_issued,
        "errors": report.errors,
    }
    return body, 201 if report.issued else 200


@bp.get("/vouchers")
@requires(Role.ADMIN)
@bp.arguments(s.VoucherQuery, location="query")
@bp.response(200, s.VoucherPage)
def list_vouchers(q: dict[str, Any]) -> Any:
    """List vouchers"""
    if q.get("phone"):
        q["phone"] = _phone(q["phone"], "Enter a valid phone number.")
    return _page(lists.vouchers(**q), q["limit"])


@bp.get("/vouchers/<code>")
@requires(Role.ADMIN)
@bp.response(200, s.VoucherOut)
def get_voucher(code: str) -> Any:
    """One voucher"""
    return lookups.find_voucher(code)


@bp.post("/vouchers/<code>/revoke")
@requires(Role.ADMIN)
@bp.arguments(s.RevokeIn, required=False)
@bp.response(200, s.VoucherOut)
def revoke_voucher(data: dict[str, Any], code: str) -> Any:
    """Revoke a voucher"""
    return vouchers.revoke_voucher(code, actor(), data["reason"])


# --------------------------------------------------------------------------- sessions


@bp.get("/sessions")
@requires(Role.ADMIN)
@bp.arguments(s.SessionQuery, location="query")
@bp.response(200, s.SessionPage)
def list_sessions(q: dict[str, Any]) -> Any:
    """List sessions (needs_review=true for the review queue)"""
    return _page(lists.sessions(**q), q["limit"])


@bp.post("/sessions/<int:session_id>/review")
@requires(Role.ADMIN)
@bp.arguments(s.ReviewIn)
@bp.response(200, s.SessionOut)
def review_session(data: dict[str, Any], session_id: int) -> Any:
    """Decide a disputed or flagged session"""
    return sessions.review_session(session_id, data["decision"], data["note"], actor())


# --------------------------------------------------------------------------- payouts


@bp.get("/payouts")
@requires(Role.ADMIN)
@bp.response(200, s.PayoutRunList)
def list_payout_runs() -> Any:
    """Payout runs"""
    return {"items": lists.payout_runs()}


@bp.post("/payouts")
@requires(Role.ADMIN)
@bp.arguments(s.PayoutRunIn)
@bp.response(201, s.PayoutRunOut)
def create_payout_run(data: dict[str, Any]) -> Any:
    """Run a payout"""
    period_end = data["period_end"] or datetime.now(UTC)
    if period_end.tzinfo is None:
        period_end = period_end.replace(tzinfo=UTC)
    run = payouts.run_payout(data["currency"], period_end, actor())
    if run is None:
        raise errors.IllegalTransition("Nothing to pay: no confirmed, unpaid sessions.")
    return run


@bp.get("/payouts/<int:run_id>")
@requires(Role.ADMIN)
@bp.response(200, s.PayoutRunOut)
def get_payout_run(run_id: int) -> Any:
    """One payout run with its statements"""
    return payouts.get_run(run_id)


@bp.get("/payouts/<int:run_id>/csv")
@requires(Role.ADMIN)
@bp.doc(responses={"200": {"description": "CSV", "content": _CSV}})
def payout_run_csv(run_id: int) -> Response:
    """A payout run as CSV for mobile money or bank"""
    return Response(
        payouts.run_csv(run_id),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=payout-run-{run_id}.csv"},
    )


@bp.post("/payouts/statements/<int:payout_id>/paid")
@requires(Role.ADMIN)
@bp.arguments(s.PaidIn)
@bp.response(200, s.PayoutOut)
def mark_statement_paid(data: dict[str, Any], payout_id: int) -> Any:
    """Mark a statement paid"""
    return payouts.mark_paid(payout_id, data["reference"], actor())
