"""The programme officers' pages: programmes, provider approval, voucher issuance (one, or a CSV
with a per-row report), the review queue of disputed and flagged sessions, payouts, and the SMS
outbox (counts, the messages, sending again).

Only staff users with the `admin` role; a funder is refused (403) and lives on /funder.
Views are thin: read the form, call one service, render or redirect with a message; a service's
refusal is shown as each view declares with `@refusals` (re-rendered in its form's field, or
flashed), by the pages' one handler (`web/errors.py`). Every word is in English and Kiswahili (the
catalogue's `admin.` and `web.` sections, `messages/pages.py`), in the language chosen with the
switch at the foot of each page (`web/i18n.py`, shared with the mentor pages).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import Response as FlaskResponse
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from ...domain import errors, text
from ...domain.base import utcnow
from ...domain.models import (
    Gender,
    Language,
    OutboxStatus,
    ProviderKind,
    ProviderStatus,
    Role,
    outbox_resendable_states,
)
from ...domain.money import format_minor
from ...messages.pages import admin as t
from ...queries import admin as queries
from ...queries import outbox as outbox_queries
from ...queries import payments as payment_queries
from ...services import (
    issuance,
    lookups,
    payments,
    payout_account_changes,
    payout_accounts,
    payouts,
    programmes,
    providers,
    reference,
    resend,
    sessions,
)
from ..auth import signed_in_staff, staff_required
from ..errors import Show, refusals
from ..i18n import counted_up_to, current_language
from .forms import (
    ImportForm,
    PayoutAccountForm,
    PayoutForm,
    ProgrammeForm,
    ProviderForm,
    StaffForm,
    VoucherForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

Page = str | tuple[str, int] | Response


@bp.before_request
@staff_required(Role.ADMIN)
def _officers_only() -> None:
    return None


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_language()
    return {
        "lang": lang,
        "_": lambda key, **params: t(key, lang, **params),
        "has": lambda key: key in t,
        "money": format_minor,
        "day": _day,
        "up_to": lambda end: counted_up_to(end, _day),
        "trades": reference.trades(),
        "regions": reference.regions(),
        "genders": list(Gender),
        "languages": list(Language),
        "kinds": list(ProviderKind),
        "trade_name": lambda code: reference.trade_name(code, lang),
        "region_name": reference.region_name,
    }


def _say(key: str, **params: Any) -> str:
    return t(key, current_language(), **params)


def _day(d: date | datetime | None) -> str:
    """Dates in words a reader of either language can read: '%d/%m/%Y' in Kiswahili."""
    if d is None:
        return ""
    return d.strftime("%d/%m/%Y" if current_language() == "sw" else "%d %b %Y")


# What a service's refusal is called on these pages, by (error code, field); then by code alone.
_PROBLEMS = {
    ("invalid_input", "phone"): "bad_phone_number",
    ("foreign_number", "phone"): "foreign_phone_number",
    ("already_exists", "phone"): "phone_taken",
    ("already_exists", "name"): "programme_name_taken",
    ("invalid_input", "budget_minor"): "budget_below_voucher",
    ("invalid_input", "birth_year"): "implausible_birth_year",
    ("invalid_input", "name"): "need_full_name",
    ("invalid_input", "trades"): "need_trade",
    ("invalid_input", "capacity"): "bad_capacity",
    ("invalid_input", "trade"): "not_covered",
    ("invalid_input", "region"): "not_covered",
    ("invalid_input", "decision"): "bad_decision",
    ("control_characters", None): "control_characters",
    ("budget_exceeded", None): "budget_exceeded",
    ("already_exists", None): "already_exists",
    ("voucher_fully_used", None): "voucher_full",
    ("booking_not_active", None): "booking_switched",
    ("invalid_input", "msisdn"): "bad_mpesa_number",
    ("invalid_input", "bank_name"): "need_bank_name",
    ("invalid_input", "bank_account"): "bad_bank_account",
    ("second_officer_required", None): "second_officer_required",
}


def _problem(exc: errors.DomainError, illegal: str | None = None) -> str:
    """The refusal in the page's language; `illegal` names the words for an illegal transition."""
    field = exc.context.get("field")
    key = _PROBLEMS.get((exc.code, str(field) if field else None)) or _PROBLEMS.get(
        (exc.code, None)
    )
    if exc.code == "illegal_transition" and illegal:
        key = illegal
    return _say(key) if key is not None else _say("refused", detail=exc.message)


# A programme field the service found too large: the form's field that holds it, and the words.
_TOO_LARGE = {
    "name": ("name", "programme_name_too_long"),
    "funder": ("funder", "funder_too_long"),
    "voucher_value_minor": ("voucher_value", "voucher_value_too_large"),
    "sessions_per_voucher": ("sessions_per_voucher", "bad_sessions_per_voucher"),
    "co_payment_percent": ("co_payment_percent", "bad_co_payment"),
    "validity_days": ("validity_days", "validity_too_long"),
    "budget_minor": ("budget", "budget_too_large"),
    "confirmation_window_hours": ("confirmation_window_hours", "window_too_long"),
}


def _programme_problem(exc: errors.DomainError, currency: str) -> tuple[str, str]:
    """The form field a refusal of `create_programme` belongs to, and what to say there."""
    field = str(exc.context.get("field") or "form")
    maximum = exc.context.get("maximum")
    if isinstance(maximum, int) and field in _TOO_LARGE:
        form_field, key = _TOO_LARGE[field]
        shown = format_minor(maximum, currency) if field.endswith("_minor") else str(maximum)
        return form_field, _say(key, maximum=shown)
    return field, _problem(exc)


def _actor() -> str:
    return signed_in_staff().actor


def _load(form: Schema, data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """The form loaded into the service's command, or what is wrong, by field, in the page's
    language (`forms.py` names the words)."""
    try:
        return form.load(data), {}
    except ValidationError as exc:
        messages = cast(dict[str, list[str]], exc.messages)
        return None, {field: _say(said[0]) for field, said in messages.items()}


def _form(*names: str) -> dict[str, str]:
    return {n: request.form.get(n, "")[:400] for n in names}


# --------------------------------------------------------------------------- home


@bp.get("")
def home() -> Page:
    return render_template(
        "admin/home.html",
        programmes=queries.programmes(),
        provider_counts=queries.provider_counts(),
        review_count=queries.review_count(),
        unpaid=queries.unpaid_by_currency(),
    )


# --------------------------------------------------------------------------- programmes

PROGRAMME_FIELDS = (
    "name",
    "funder",
    "currency",
    "voucher_value",
    "sessions_per_voucher",
    "co_payment_percent",
    "co_payment_required",
    "validity_days",
    "budget",
    "confirmation_window_hours",
)


def _programmes_page(form: dict[str, str], errs: dict[str, str]) -> Page:
    return render_template(
        "admin/programmes.html", programmes=queries.programmes(), form=form, errs=errs
    ), (422 if errs else 200)


def _programme_refused(exc: errors.DomainError) -> Page:
    form = _form(*PROGRAMME_FIELDS)
    field, message = _programme_problem(exc, form["currency"].strip().upper())
    return _programmes_page(form, {field: message})


@bp.route("/programmes", methods=["GET", "POST"])
@refusals(_programme_refused)
def programme_list() -> Page:
    form = {
        "currency": "KES",
        "sessions_per_voucher": "4",
        "co_payment_percent": "10",
        "validity_days": "180",
        "confirmation_window_hours": "72",
    }
    errs: dict[str, str] = {}
    if request.method == "POST":
        form = _form(*PROGRAMME_FIELDS)
        chosen = {
            "trades": request.form.getlist("trades"),
            "regions": request.form.getlist("regions"),
        }
        command, errs = _load(ProgrammeForm(), {**form, **chosen})
        if not errs:
            created = programmes.create_programme(command, _actor())
            flash(_say("programme_created", name=created.name), "ok")
            return redirect(url_for(".programme_list"))
    return _programmes_page(form, errs)


# --------------------------------------------------------------------------- providers

PROVIDER_FIELDS = (
    "kind",
    "name",
    "phone",
    "region",
    "town",
    "capacity",
    "contact_name",
    "language",
)


def _providers_page(form: dict[str, str], chosen: list[str], errs: dict[str, str]) -> Page:
    status = request.args.get("status", "")
    status = status if status in set(ProviderStatus) else ""
    search = text.clean(request.args.get("q", ""))[:80]
    return render_template(
        "admin/providers.html",
        providers=queries.providers(status or None, search),
        counts=queries.provider_counts(),
        status=status,
        search=search,
        form=form,
        chosen=chosen,
        errs=errs,
    ), (422 if errs else 200)


def _provider_refused(exc: errors.DomainError) -> Page:
    errs = {str(exc.context.get("field") or "form"): _problem(exc)}
    return _providers_page(_form(*PROVIDER_FIELDS), request.form.getlist("trades"), errs)


@bp.route("/providers", methods=["GET", "POST"])
@refusals(_provider_refused)
def provider_list() -> Page:
    form: dict[str, str] = {"kind": "craft_worker", "capacity": "5", "language": "en"}
    chosen: list[str] = []
    errs: dict[str, str] = {}
    if request.method == "POST":
        form = _form(*PROVIDER_FIELDS)
        chosen = request.form.getlist("trades")
        command, errs = _load(ProviderForm(), {**form, "trades": chosen})
        if not errs:
            created = providers.register_provider(command, _actor())
            flash(_say("provider_registered", name=created.name, number=created.number), "ok")
            return redirect(url_for(".provider_list"))
    return _providers_page(form, chosen, errs)


ACCOUNT_FIELDS = ("kind", "msisdn", "bank_name", "bank_account")


def _provider_page(
    provider: Any,
    form: dict[str, str],
    errs: dict[str, str],
    account_form: dict[str, str] | None = None,
) -> Page:
    return render_template(
        "admin/provider.html",
        provider=provider,
        form=form,
        errs=errs,
        account_form=account_form or {"kind": "mpesa"},
        approved=payout_accounts.approved_payout_account(provider.id),
        pending=payout_accounts.pending_payout_account(provider.id),
        me=_actor(),
    ), (422 if errs else 200)


def _staff_refused(exc: errors.DomainError, provider_id: int) -> Page | None:
    if isinstance(exc, errors.NotFound):
        return None
    errs = {str(exc.context.get("field") or "phone"): _problem(exc)}
    return _provider_page(lookups.provider(provider_id), _form("name", "phone"), errs)


@bp.route("/providers/<int:provider_id>", methods=["GET", "POST"])
@refusals(_staff_refused)
def provider_detail(provider_id: int) -> Page:
    """One provider, the people who sign in for it, and adding another (an institute's staff)."""
    provider = lookups.provider(provider_id)
    form = {"name": "", "phone": ""}
    errs: dict[str, str] = {}
    if request.method == "POST":
        form = _form("name", "phone")
        _loaded, errs = _load(StaffForm(), form)
        if not errs:
            added = providers.add_staff(provider.id, form["name"], form["phone"], _actor())
            flash(_say("staff_added", name=added.name, phone=added.phone), "ok")
            return redirect(url_for(".provider_detail", provider_id=provider.id))
    return _provider_page(provider, form, errs)


def _flashed(back: Callable[..., str], illegal: Callable[..., str | None] | None = None) -> Show:
    """A refusal flashed, then back to `back(**view_args)`; `illegal(**view_args)` names the words
    for an illegal transition. A NotFound is the 404 page."""

    def show(exc: errors.DomainError, **args: Any) -> Response | None:
        if isinstance(exc, errors.NotFound):
            return None
        flash(_problem(exc, illegal(**args) if illegal else None), "error")
        return redirect(back(**args))

    return show


def _back_from_provider(**_args: Any) -> str:
    back = request.form.get("back", "")
    return back if back.startswith("/admin/") else url_for(".provider_list")


_ILLEGAL_ACTION = {"approve": "already_approved", "suspend": "only_approved_suspended"}


@bp.post("/providers/<int:provider_id>/<any(approve, suspend):action>")
@refusals(_flashed(_back_from_provider, lambda action, **_: _ILLEGAL_ACTION[action]))
def provider_action(provider_id: int, action: str) -> Response:
    change = providers.approve_provider if action == "approve" else providers.suspend_provider
    provider = change(provider_id, _actor())
    flash(
        _say(f"provider_now_{provider.status}", name=provider.name, number=provider.number),
        "ok",
    )
    return redirect(_back_from_provider())


# --------------------------------------------------------------------------- payout accounts
# A change of where a provider's money goes is proposed on the provider's page and approved by a
# second officer, on the provider's page or in the list of changes waiting.


def _account_refused(exc: errors.DomainError, provider_id: int) -> Page | None:
    if isinstance(exc, errors.NotFound):
        return None
    field = str(exc.context.get("field") or "account")
    errs = {field: _problem(exc)}
    form = _form(*ACCOUNT_FIELDS)
    return _provider_page(lookups.provider(provider_id), {}, errs, form)


@bp.post("/providers/<int:provider_id>/payout-account")
@refusals(_account_refused)
def payout_account_propose(provider_id: int) -> Page:
    """Propose a payout account (or a change of it): it waits for a second officer."""
    provider = lookups.provider(provider_id)
    form = _form(*ACCOUNT_FIELDS)
    command, errs = _load(PayoutAccountForm(), form)
    if errs:
        return _provider_page(provider, {}, errs, form)
    account = payout_account_changes.propose_payout_account(provider.id, command, _actor())
    flash(_say("payout_account_proposed", account=account.in_full, name=provider.name), "ok")
    return redirect(url_for(".provider_detail", provider_id=provider.id, _anchor="payout-account"))


@bp.get("/payout-accounts")
def payout_accounts_waiting() -> Page:
    """Every change of payout account waiting for a second officer, oldest first."""
    return render_template(
        "admin/payout_accounts.html", waiting=queries.payout_accounts_waiting(), me=_actor()
    )


def _back_from_account(**_args: Any) -> str:
    back = request.form.get("back", "")
    return back if back.startswith("/admin/") else url_for(".payout_accounts_waiting")


@bp.post("/payout-accounts/<int:account_id>/<any(approve, refuse):decision>")
@refusals(_flashed(_back_from_account, lambda **_: "account_already_decided"))
def payout_account_decide(account_id: int, decision: str) -> Response:
    decide = (
        payout_account_changes.approve_payout_account
        if decision == "approve"
        else payout_account_changes.refuse_payout_account
    )
    account = decide(account_id, _actor())
    flash(
        _say(f"payout_account_{decision}d", account=account.in_full, name=account.provider.name),
        "ok",
    )
    return redirect(_back_from_account())


# --------------------------------------------------------------------------- vouchers

PERSON_FIELDS = ("phone", "name", "gender", "birth_year", "trade", "region", "language")


def _vouchers_page(
    form: dict[str, str], errs: dict[str, str], report: Any = None, filename: str = ""
) -> Page:
    return render_template(
        "admin/vouchers.html",
        programmes=queries.programme_choices(),
        form=form,
        errs=errs,
        report=report,
        filename=filename,
        columns=issuance.CSV_COLUMNS,
    ), (422 if errs else 200)


def _issue_refused(exc: errors.DomainError) -> Page:
    errs = {str(exc.context.get("field") or "form"): _problem(exc)}
    return _vouchers_page(_form("programme_id", *PERSON_FIELDS), errs)


@bp.route("/vouchers", methods=["GET", "POST"])
@refusals(_issue_refused)
def issue() -> Page:
    form: dict[str, str] = {"language": "en", "programme_id": request.args.get("programme", "")}
    errs: dict[str, str] = {}
    if request.method == "POST":
        form = _form("programme_id", *PERSON_FIELDS)
        loaded, errs = _load(VoucherForm(), form)
        if not errs:
            programme_id, person = loaded
            voucher = issuance.issue_voucher(programme_id, person, _actor())
            flash(_say("voucher_issued", code=voucher.code, name=voucher.entrepreneur.name), "ok")
            return redirect(url_for(".issue", programme=form["programme_id"]))
    return _vouchers_page(form, errs)


def _import_refused(exc: errors.DomainError) -> Page:
    if isinstance(exc, errors.NotFound):
        errs = {"import_programme": _say("choose_programme")}
    else:
        errs = {"file": _problem(exc)}
    return _import_page(errs)


def _import_page(errs: dict[str, str], report: Any = None) -> Page:
    upload = request.files.get("file")
    form = {"programme_id": request.form.get("programme_id", ""), "language": "en"}
    return _vouchers_page(form, errs, report, (upload.filename or "") if upload is not None else "")


@bp.post("/vouchers/import")
@refusals(_import_refused)
def import_csv() -> Page:
    upload = {"file": request.files.get("file")} if "file" in request.files else {}
    form = {"import_programme": request.form.get("programme_id", ""), **upload}
    loaded, errs = _load(ImportForm(), form)
    report = None
    if not errs:
        programme_id, content = loaded
        report = issuance.import_vouchers(programme_id, content, _actor())
    return _import_page(errs, report)


# --------------------------------------------------------------------------- review


REVIEW_FLAGS = (
    "shared_phone",
    "too_many_in_a_day",
    "overlapping_sessions",
    "burst_confirmation",
    "over_capacity",
)


@bp.get("/review")
def review() -> Page:
    pages = queries.review_pages()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    return render_template(
        "admin/review.html",
        queue=queries.review_queue(page),
        total=queries.review_count(),
        page=page,
        pages=pages,
        flag_names=REVIEW_FLAGS,
    )


@bp.post("/review/<int:session_id>")
@refusals(_flashed(lambda **_: url_for(".review"), lambda **_: "already_decided"))
def decide(session_id: int) -> Response:
    decision = request.form.get("decision", "")
    note = request.form.get("note", "")[:500]
    decided = sessions.review_session(session_id, decision, note, _actor())
    flash(_say(f"decided_{decision}", ref=decided.ref), "ok")
    return redirect(url_for(".review"))


# --------------------------------------------------------------------------- payments


@bp.get("/payments")
def payments_page() -> Page:
    """Payments by state, the failures with their reasons, the names waiting, the balance."""
    return render_template("admin/payments.html", view=payment_queries.overview())


def _back_to_payments(**_args: Any) -> str:
    return url_for(".payments_page")


@bp.post("/payments/<int:payment_id>/retry")
@refusals(_flashed(_back_to_payments))
def payments_retry(payment_id: int) -> Response:
    again = payments.retry(payment_id, _actor())
    flash(_say("payments_retried", attempt=again.attempt), "ok")
    return redirect(url_for(".payments_page"))


@bp.post("/payments/names/<msisdn>")
@refusals(_flashed(_back_to_payments))
def payments_name(msisdn: str) -> Response:
    accept = request.form.get("decision") == "accept"
    n = payments.decide_name(msisdn[:16], accept, _actor())
    flash(_say("payments_name_decided", n=n, number=msisdn[:16]), "ok")
    return redirect(url_for(".payments_page"))


@bp.post("/payments/channels/<channel>/resume")
def payments_resume(channel: str) -> Response:
    payments.resume(channel[:20], _actor())
    flash(_say("payments_resumed", channel=channel[:20]), "ok")
    return redirect(url_for(".payments_page"))


# --------------------------------------------------------------------------- payouts


@bp.route("/payouts", methods=["GET", "POST"])
def payout_list() -> Page:
    errs: dict[str, str] = {}
    today = datetime.now(UTC).date()
    form = {"currency": "KES", "period_end": today.isoformat()}
    if request.method == "POST":
        form = _form("currency", "period_end")
        loaded, errs = _load(PayoutForm(today), form)
        if not errs:
            currency, end_day = loaded["currency"], loaded["period_end"]
            # Everything confirmed up to the end of that day (UTC).
            period_end = datetime.combine(end_day, time.min, tzinfo=UTC) + timedelta(days=1)
            period_end = min(period_end, datetime.now(UTC))
            run = payouts.run_payout(currency, period_end, _actor())
            if run is None:
                flash(_say("nothing_to_pay"), "error")
                return redirect(url_for(".payout_list"))
            total = format_minor(run.total_minor, run.currency)
            flash(_say("payout_run_made", id=run.id, total=total), "ok")
            return redirect(url_for(".payout_run", run_id=run.id))
    return render_template(
        "admin/payouts.html",
        runs=queries.payout_runs(),
        unpaid=queries.unpaid_by_currency(),
        held=queries.held_for_review(),
        accounts_waiting=len(queries.payout_accounts_waiting()),
        form=form,
        errs=errs,
    ), (422 if errs else 200)


@bp.get("/payouts/<int:run_id>")
def payout_run(run_id: int) -> Page:
    run = payouts.get_run(run_id)
    rows = queries.run_payouts(run_id)
    accounts = payout_accounts.approved_payout_accounts(p.provider_id for p in rows)
    return render_template("admin/payout_run.html", run=run, rows=rows, accounts=accounts)


@bp.get("/payouts/<int:run_id>.csv")
def payout_csv(run_id: int) -> Response:
    body = payouts.run_csv(run_id)
    return FlaskResponse(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="payout-run-{run_id}.csv"'},
    )


def _back_to_run(run_id: int, **_args: Any) -> str:
    return url_for(".payout_run", run_id=run_id)


def _payment_refused(exc: errors.DomainError, run_id: int, **_args: Any) -> Response | None:
    if exc.code != "invalid_input":
        return _flashed(_back_to_run, lambda **_: "already_paid")(exc, run_id=run_id)
    flash(_say("need_payment_reference"), "error")
    return redirect(_back_to_run(run_id))


@bp.post("/payouts/<int:run_id>/paid/<int:payout_id>")
@refusals(_payment_refused)
def mark_paid(run_id: int, payout_id: int) -> Response:
    if payout_id not in {p.id for p in queries.run_payouts(run_id)}:
        abort(404)
    paid = payouts.mark_paid(payout_id, request.form.get("reference", "")[:80], _actor())
    flash(_say("marked_paid", name=paid.provider.name, reference=paid.reference), "ok")
    return redirect(_back_to_run(run_id))


@bp.post("/payouts/<int:run_id>/paid")
@refusals(_flashed(_back_to_run))
def mark_run_paid(run_id: int) -> Response:
    payouts.get_run(run_id)
    prefix = request.form.get("prefix", "").strip()[:60]
    if not prefix:
        flash(_say("need_bulk_reference"), "error")
    else:
        count = payouts.mark_run_paid(run_id, prefix, _actor())
        flash(_say("statements_marked", n=count), "ok")
    return redirect(_back_to_run(run_id))


# --------------------------------------------------------------------------- SMS


def _sms_filter(source: Any) -> tuple[str, str]:
    state = str(source.get("state", ""))
    kind = str(source.get("kind", ""))[:40]
    return (state if state in {s.value for s in OutboxStatus} else ""), kind


def _age(seconds: int) -> str:
    """An age in the largest unit that leaves at least two of it: '90 seconds', '3 hours'."""
    for unit, size in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if seconds >= 2 * size:
            return _say(f"age_{unit}", n=seconds // size)
    return _say("age_seconds", n=seconds)


@bp.get("/sms")
def sms() -> Page:
    state, kind = _sms_filter(request.args)
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) <= 6 else 1
    counts = outbox_queries.counts()
    state_totals: dict[str, int] = {}
    kind_totals: dict[str, int] = {}
    for (s, k), n in counts.items():
        state_totals[s] = state_totals.get(s, 0) + n
        kind_totals[k] = kind_totals.get(k, 0) + n
    return render_template(
        "admin/sms.html",
        states=list(OutboxStatus),
        kinds=sorted(kind_totals),
        counts=counts,
        state_totals=state_totals,
        kind_totals=kind_totals,
        listing_all=sum(counts.values()),
        state=state,
        kind=kind,
        listing=outbox_queries.messages(state, kind, page),
        backlog=outbox_queries.backlog(utcnow()),
        age=_age,
        resendable=[s.value for s in outbox_resendable_states(force=True)],
    )


def _back_to_sms(**_args: Any) -> str:
    state, kind = _sms_filter(request.form)
    return url_for(".sms", state=state or None, kind=kind or None)


@bp.post("/sms/resend")
@refusals(_flashed(_back_to_sms))
def sms_resend() -> Response:
    """Send again the chosen messages, or every message of the page's filter (state, kind)."""
    state, kind = _sms_filter(request.form)
    force = request.form.get("force") == "1"
    if request.form.get("scope") == "filter":
        selection = resend.Selection(
            states=frozenset({state} - {""}), kinds=frozenset({kind} - {""})
        )
    else:
        ids = {int(v) for v in request.form.getlist("id") if v.isdigit() and len(v) <= 10}
        selection = resend.Selection(ids=frozenset(ids))
    back = _back_to_sms()
    if selection.empty:
        flash(_say("sms_choose_some"), "error")
        return redirect(back)
    done = resend.resend(selection, _actor(), force=force)
    flash(_say("sms_requeued", n=done.total), "ok" if done.total else "error")
    if done.went_out:
        flash(_say("sms_went_out_left", n=done.went_out), "error")
    if done.queued:
        flash(_say("sms_queued_left", n=done.queued), "ok")
    return redirect(back)


@bp.get("/jobs")
def jobs() -> Page:
    from ...queries import jobs as job_queries
    from ...services import heartbeat, scheduler

    try:
        on = {s.job.name: s.every for s in scheduler.schedule_from(current_app.config)}
    except ValueError:
        on = {}
    schedule = {name: on.get(name) for name in scheduler.JOB_NAMES}
    job = request.args.get("job") or None
    if job not in (None, *scheduler.JOB_NAMES):
        abort(404)
    return render_template(
        "admin/jobs.html",
        states=job_queries.job_states(schedule),
        runs=job_queries.recent_runs(job),
        job=job,
        beats=heartbeat.last_beats(),
    )


# The pages of one person and their vouchers, and the edits of a programme or a provider, are
# views of this blueprint kept in their own modules.
from . import edits, people  # noqa: E402

__all__ = ["bp", "edits", "people", "register"]


def register(app: Flask) -> None:
    app.register_blueprint(bp)
