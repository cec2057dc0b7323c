"""Every input and output of the JSON API as a marshmallow schema."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...domain import limits
from ...domain.base import MAX_ID
from ...domain.models import Gender, Language, ProviderKind, VoucherStatus
from ...domain.models.payout_accounts import BANK_ACCOUNT_MAX, BANK_NAME_MAX
from ..fields import BirthYear, Line, Lines, MpesaNumber, Phone, RegionCode, TradeCode, within

_NAME = validate.Length(min=1, max=120)


class ErrorSchema(Schema):
    class ErrorBody(Schema):
        code = fields.String(required=True)
        message = fields.String(required=True)
        details = fields.Dict(keys=fields.String(), metadata={"description": "field -> messages"})

    error = fields.Nested(ErrorBody, required=True)


class ProgrammeIn(Schema):
    """The bounds are the domain's (`domain/limits.py`), the service's too."""

    name = Line(required=True, nonblank=True, validate=validate.Length(min=1, max=limits.NAME_MAX))
    funder = Line(
        required=True, nonblank=True, validate=validate.Length(min=1, max=limits.NAME_MAX)
    )
    currency = Line(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    voucher_value_minor = fields.Integer(
        required=True, strict=True, validate=within(limits.VOUCHER_VALUE_MINOR)
    )
    sessions_per_voucher = fields.Integer(
        required=True, strict=True, validate=within(limits.SESSIONS_PER_VOUCHER)
    )
    co_payment_percent = fields.Integer(
        load_default=0, strict=True, validate=within(limits.CO_PAYMENT_PERCENT)
    )
    co_payment_required = fields.Boolean(
        load_default=False,
        metadata={
            "description": "the co-payment is recorded received before the first session "
            "can be recorded"
        },
    )
    validity_days = fields.Integer(
        required=True, strict=True, validate=within(limits.VALIDITY_DAYS)
    )
    budget_minor = fields.Integer(required=True, strict=True, validate=within(limits.BUDGET_MINOR))
    confirmation_window_hours = fields.Integer(
        load_default=72, strict=True, validate=within(limits.CONFIRMATION_WINDOW_HOURS)
    )
    eligible_trades = fields.List(
        TradeCode(),
        load_default=list,
        validate=validate.Length(max=100),
    )
    eligible_regions = fields.List(
        RegionCode(),
        load_default=list,
        validate=validate.Length(max=100),
    )


class ProgrammeOut(Schema):
    id = fields.Integer()
    name = fields.String()
    funder = fields.String()
    currency = fields.String()
    voucher_value_minor = fields.Integer()
    sessions_per_voucher = fields.Integer()
    co_payment_percent = fields.Integer()
    co_payment_required = fields.Boolean()
    validity_days = fields.Integer()
    budget_minor = fields.Integer()
    committed_minor = fields.Integer()
    available_minor = fields.Integer()
    confirmation_window_hours = fields.Integer()
    eligible_trades = fields.List(fields.String())
    eligible_regions = fields.List(fields.String())
    created_at = fields.DateTime()


class ProviderIn(Schema):
    kind = Line(required=True, validate=validate.OneOf([k.value for k in ProviderKind]))
    name = Line(required=True, nonblank=True, validate=_NAME)
    phone = Phone(required=True)
    trades = fields.List(TradeCode(), required=True, validate=validate.Length(min=1, max=20))
    region = RegionCode(required=True)
    town = Line(load_default="", validate=validate.Length(max=80))
    capacity = fields.Integer(required=True, strict=True, validate=within(limits.PROVIDER_CAPACITY))
    contact_name = Line(load_default="", validate=validate.Length(max=120))
    language = Line(load_default="en", validate=validate.OneOf([x.value for x in Language]))


class ProviderOut(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    name = fields.String()
    phone = fields.String()
    trades = fields.List(fields.String(), attribute="trade_codes")
    region = fields.String(attribute="region_code")
    town = fields.String()
    capacity = fields.Integer()
    active_bookings = fields.Integer()
    status = fields.String()
    rating = fields.Float(allow_none=True)
    rating_count = fields.Integer()
    created_at = fields.DateTime()


class MpesaAccountIn(Schema):
    msisdn = MpesaNumber(required=True)


class BankAccountIn(Schema):
    bank_name = Line(required=True, nonblank=True, validate=validate.Length(max=BANK_NAME_MAX))
    bank_account = Line(
        required=True,
        validate=[
            validate.Length(max=BANK_ACCOUNT_MAX),
            validate.Regexp(
                r"^[0-9A-Za-z /-]*[0-9][0-9A-Za-z /-]*$",
                error="Digits and letters (spaces, - and / between them), at least one digit.",
            ),
        ],
    )


class PayoutAccountOut(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    kind = fields.String(metadata={"description": "mpesa or bank"})
    msisdn = fields.String(allow_none=True, metadata={"description": "E.164, for mpesa"})
    bank_name = fields.String(allow_none=True)
    bank_account = fields.String(allow_none=True)
    status = fields.String(
        metadata={"description": "pending, approved, refused, withdrawn or superseded"}
    )
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class ProviderPayoutAccounts(Schema):
    approved = fields.Nested(
        PayoutAccountOut,
        allow_none=True,
        required=True,
        metadata={"description": "where payments go now (none: nothing is paid)"},
    )
    pending = fields.Nested(
        PayoutAccountOut,
        allow_none=True,
        required=True,
        metadata={"description": "a change waiting for a second officer's approval"},
    )


class PayoutAccountList(Schema):
    items = fields.List(
        fields.Nested(PayoutAccountOut),
        required=True,
        metadata={"description": "changes waiting for approval, oldest first (at most 200)"},
    )


class ProviderQuery(Schema):
    status = Line(validate=validate.OneOf(["pending", "approved", "suspended"]))
    kind = Line(validate=validate.OneOf([k.value for k in ProviderKind]))
    region = Line(validate=validate.Length(max=40))
    trade = Line(validate=validate.Length(max=40))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class EntrepreneurIn(Schema):
    phone = Phone(required=True)
    name = Line(required=True, nonblank=True, validate=_NAME)
    gender = Line(required=True, validate=validate.OneOf([g.value for g in Gender]))
    birth_year = BirthYear(required=True)
    trade = TradeCode(required=True)
    region = RegionCode(required=True)
    language = Line(load_default="en", validate=validate.OneOf([x.value for x in Language]))


class EntrepreneurQuery(Schema):
    phone = Phone(required=True)


class EntrepreneurOut(Schema):
    id = fields.Integer()
    phone = fields.String()
    name = fields.String()
    gender = fields.String()
    birth_year = fields.Integer()
    trade = fields.String(attribute="trade_code")
    region = fields.String(attribute="region_code")
    language = fields.String()
    sms_opt_out = fields.Boolean()
    created_at = fields.DateTime()


class EntrepreneurChangeIn(Schema):
    """An officer's change of the person's trade or region (codes or names); audited."""

    trade = Line(validate=validate.Length(min=1, max=40))
    region = Line(validate=validate.Length(min=1, max=40))

    @validates_schema
    def _something(self, data: dict[str, object], **_kwargs: object) -> None:
        if not data:
            raise ValidationError("Give a trade, a region or both.")


class VoucherIn(EntrepreneurIn):
    ref = Line(
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "your own id for this issuance: sending the same ref twice issues once"
        },
    )


class VoucherOut(Schema):
    code = fields.String()
    status = fields.String()
    programme_id = fields.Integer()
    entrepreneur_id = fields.Integer()
    value_minor = fields.Integer()
    currency = fields.String()
    sessions_total = fields.Integer()
    sessions_confirmed = fields.Integer()
    sessions_left = fields.Integer()
    redeemed_minor = fields.Integer()
    issued_at = fields.DateTime()
    expires_at = fields.DateTime()
    booked_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class VoucherQuery(Schema):
    programme_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    status = Line(validate=validate.OneOf([s.value for s in VoucherStatus]))
    phone = Phone()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class RevokeIn(Schema):
    reason = Lines(load_default="", validate=validate.Length(max=limits.REASON_MAX))


class ImportRowError(Schema):
    line = fields.Integer()
    field = fields.String(allow_none=True)
    reason = fields.String()


class ImportedRow(Schema):
    line = fields.Integer()
    code = fields.String()


class ImportReportOut(Schema):
    issued_count = fields.Integer()
    already_issued_count = fields.Integer()
    error_count = fields.Integer()
    issued = fields.List(fields.Nested(ImportedRow))
    already_issued_lines = fields.List(fields.Integer())
    errors = fields.List(fields.Nested(ImportRowError))


class SessionOut(Schema):
    id = fields.Integer()
    ref = fields.String()
    status = fields.String()
    voucher_code = fields.Function(lambda s: s.voucher.code)
    provider_id = fields.Integer()
    programme_id = fields.Integer()
    delivered_on = fields.Date()
    duration_minutes = fields.Integer()
    topic = fields.String()
    recorded_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)
    answered_via = fields.String(allow_none=True)
    value_minor = fields.Integer()
    currency = fields.String()
    flags = fields.List(fields.String())
    reviewed_at = fields.DateTime(allow_none=True)
    review_note = fields.String()
    payout_id = fields.Integer(allow_none=True)


class SessionQuery(Schema):
    status = Line(validate=validate.OneOf(["recorded", "confirmed", "disputed", "lapsed"]))
    programme_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    provider_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    needs_review = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class ReviewIn(Schema):
    decision = Line(required=True, validate=validate.OneOf(["overturn", "uphold", "clear"]))
    note = Lines(load_default="", validate=validate.Length(max=500))


class PayoutRunIn(Schema):
    currency = Line(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    period_end = fields.AwareDateTime(
        load_default=None, default_timezone=None, metadata={"description": "default: now"}
    )


class PayoutOut(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    provider_number = fields.Function(lambda p: p.provider.number)
    provider_name = fields.Function(lambda p: p.provider.name)
    amount_minor = fields.Integer()
    currency = fields.String()
    sessions_count = fields.Integer()
    status = fields.String()
    reference = fields.String(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)


class PayoutRunOut(Schema):
    id = fields.Integer()
    currency = fields.String()
    period_start = fields.DateTime()
    period_end = fields.DateTime()
    created_at = fields.DateTime()
    created_by = fields.String()
    total_minor = fields.Integer()
    payouts = fields.List(fields.Nested(PayoutOut))


class PaidIn(Schema):
    reference = Line(required=True, nonblank=True, validate=validate.Length(min=1, max=80))


class StatsQuery(Schema):
    date_from = fields.Date(load_default=None, data_key="from")
    date_to = fields.Date(load_default=None, data_key="to")
    region = Line(load_default=None, validate=validate.Length(max=40))
    trade = Line(load_default=None, validate=validate.Length(max=40))
    gender = Line(load_default=None, validate=validate.OneOf([g.value for g in Gender]))

    @validates_schema
    def _range(self, data: dict[str, object], **_: object) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:  # type: ignore[operator]
            raise ValidationError("'from' must not be after 'to'.", "from")


# --------------------------------------------------------------------------- lists


class ProgrammeList(Schema):
    items = fields.List(fields.Nested(ProgrammeOut), required=True)


class EntrepreneurList(Schema):
    items = fields.List(
        fields.Nested(EntrepreneurOut),
        required=True,
        metadata={"description": "the entrepreneur with that phone, or none"},
    )


class PayoutRunList(Schema):
    items = fields.List(
        fields.Nested(PayoutRunOut),
        required=True,
        metadata={"description": "the latest 100 runs, newest first"},
    )


class Page(Schema):
    """One page of a list in id order; ask for the next with `after_id=<next_after_id>`."""

    next_after_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "the last id of a full page; null when there is no next page"},
    )


class ProviderPage(Page):
    items = fields.List(fields.Nested(ProviderOut), required=True)


class VoucherPage(Page):
    items = fields.List(fields.Nested(VoucherOut), required=True)


class SessionPage(Page):
    items = fields.List(fields.Nested(SessionOut), required=True)


# --------------------------------------------------------------------------- statistics
# What GET /programmes/{id}/stats answers (`queries.stats.to_json`); documentation only.

_HIDDEN_MARKERS = ["<5", "hidden"]


def _figure(description: str) -> fields.Raw:
    """A figure: a number, null when it cannot be worked out (a rate of nothing), or a marker:
    `<5` (about fewer than 5 entrepreneurs) or `hidden` (would give a `<5` figure away)."""
    return fields.Raw(
        required=True,
        allow_none=True,
        metadata={
            "description": description,
            "anyOf": [{"type": "number"}, {"type": "string", "enum": _HIDDEN_MARKERS}],
        },
    )


def _label(description: str) -> fields.String:
    return fields.String(required=True, metadata={"description": description})


class StatsProgramme(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    funder = fields.String(required=True)
    currency = fields.String(required=True)


class StatsFilters(Schema):
    date_from = fields.Date(required=True, allow_none=True, data_key="from")
    date_to = fields.Date(required=True, allow_none=True, data_key="to")
    region = fields.String(required=True, allow_none=True)
    trade = fields.String(required=True, allow_none=True)
    gender = fields.String(required=True, allow_none=True)


class StatsIssueMonths(Schema):
    """The dates widened to whole issue months (YYYY-MM): what the figures count."""

    month_from = fields.String(required=True, allow_none=True, data_key="from")
    month_to = fields.String(required=True, allow_none=True, data_key="to")


class StatsHeadline(Schema):
    entrepreneurs = _figure("Entrepreneurs")
    issued = _figure("Vouchers issued")
    not_yet_booked = _figure("Not yet booked: vouchers in state issued")
    booked = _figure(
        "Booked now, no session confirmed yet: vouchers in state booked. Not the breakdowns' "
        "ever_booked, which also counts vouchers in progress, completed or ended since."
    )
    in_progress = _figure("In progress: at least one session confirmed")
    completed = _figure("Completed")
    expired = _figure("Expired")
    revoked = _figure("Revoked")
    value_issued_minor = _figure("Value issued (minor units of the currency)")
    value_redeemed_minor = _figure("Value redeemed: confirmed sessions (minor units)")
    redemption_rate_pct = _figure("Redemption rate: value of confirmed sessions / value issued")
    completion_rate_pct = _figure("Completion rate: completed / issued")
    median_days_to_booking = _figure("Median days from issue to booking")
    median_days_to_completion = _figure("Median days from booking to completion")
    sessions_confirmed = _figure("Sessions confirmed")
    sessions_awaiting = _figure("Sessions awaiting the entrepreneur's answer")
    disputes = _figure("Sessions disputed")
    lapsed = _figure("Sessions lapsed (no answer in time)")
    switches = _figure("Switches (cancelled and booked another mentor)")
    co_payments_recorded = _figure("Vouchers whose co-payment the mentor recorded received")
    co_payment_recorded_pct = _figure(
        "Co-payment recorded: vouchers whose co-payment was recorded / vouchers booked whose "
        "programme asked one"
    )


class StatsColumn(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "as the dashboard heads it"})
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["count", "money", "percent", "days", "ratio", "stars", "text"]),
    )


class _StatsTable(Schema):
    title = fields.String(required=True)
    columns = fields.List(fields.Nested(StatsColumn), required=True)


class ProviderChoiceRow(Schema):
    kind = _label("craft_worker or institute")
    entrepreneurs = _figure("Entrepreneurs who booked this kind")
    bookings = _figure("Bookings of this kind, including those later switched")
    booking_share_pct = _figure("Share of bookings")
    impressions = _figure("Times this kind was shown in a list")
    impression_share_pct = _figure("Share of times shown")
    preference_index = _figure("Share of bookings / share of times shown; above 1: picked more")
    switched_to = _figure("Switches to this kind")


class ProviderChoiceTable(_StatsTable):
    rows = fields.List(fields.Nested(ProviderChoiceRow), required=True)


class RedemptionByKindRow(Schema):
    kind = _label("craft_worker or institute")
    entrepreneurs = _figure("Entrepreneurs with a session confirmed with this kind")
    sessions_confirmed = _figure("Sessions confirmed with this kind of provider (the kind booked)")
    value_redeemed_minor = _figure("Value redeemed with this kind (minor units)")
    redeemed_share_pct = _figure("Share of the value redeemed")


class RedemptionByKindTable(_StatsTable):
    rows = fields.List(fields.Nested(RedemptionByKindRow), required=True)


class MonthlyRow(Schema):
    month = _label("YYYY-MM")
    issued = _figure("Vouchers issued in the month")
    bookings = _figure("Bookings made in the month")
    sessions_confirmed = _figure("Sessions confirmed in the month")
    value_paid_minor = _figure("Value paid to providers in the month (minor units)")


class MonthlyTable(_StatsTable):
    rows = fields.List(fields.Nested(MonthlyRow), required=True)


class BreakdownRow(Schema):
    group = _label("the trade, region, gender or age band")
    entrepreneurs = _figure("Entrepreneurs")
    issued = _figure("Vouchers issued")
    ever_booked = _figure(
        "Ever booked: vouchers booked at some time, whatever their state now (not the headline's "
        "booked, which counts those booked now and waiting for a first confirmed session)"
    )
    completed = _figure("Completed")
    value_issued_minor = _figure("Value issued (minor units)")
    value_redeemed_minor = _figure("Value redeemed (minor units)")
    redemption_rate_pct = _figure("Redemption rate")
    completion_rate_pct = _figure("Completion rate")


class BreakdownTable(_StatsTable):
    rows = fields.List(fields.Nested(BreakdownRow), required=True)


class PaymentSpeedRow(Schema):
    sessions_paid = _figure("Sessions paid")
    median_days = _figure("Median days from a confirmed session to its payout being paid")
    mean_days = _figure("Average days")
    max_days = _figure("Longest wait (days)")


class PaymentSpeedTable(_StatsTable):
    rows = fields.List(fields.Nested(PaymentSpeedRow), required=True)


class RatingsRow(Schema):
    kind = _label("craft_worker or institute")
    ratings = _figure("Ratings")
    average_stars = _figure("Average (1-5)")


class RatingsTable(_StatsTable):
    rows = fields.List(fields.Nested(RatingsRow), required=True)


class TopProviderRow(Schema):
    provider_number = _label("the provider's public number")
    provider = _label("the provider's business name")
    kind = _label("craft_worker or institute")
    completed = _figure("Completed vouchers")


class TopProvidersTable(_StatsTable):
    rows = fields.List(fields.Nested(TopProviderRow), required=True)


class StatsTables(Schema):
    provider_choice = fields.Nested(ProviderChoiceTable, required=True)
    redemption_by_kind = fields.Nested(RedemptionByKindTable, required=True)
    monthly = fields.Nested(MonthlyTable, required=True)
    by_trade = fields.Nested(BreakdownTable, required=True)
    by_region = fields.Nested(BreakdownTable, required=True)
    by_gender = fields.Nested(BreakdownTable, required=True)
    by_age_band = fields.Nested(BreakdownTable, required=True)
    payment_speed = fields.Nested(PaymentSpeedTable, required=True)
    ratings = fields.Nested(RatingsTable, required=True)
    top_providers = fields.Nested(TopProvidersTable, required=True)


class StatsOut(Schema):
    """A programme's statistics: aggregates only. Figures about fewer than 5 entrepreneurs read
    `<5`; where a table's totals would give such a figure away, the next-smallest row reads
    `hidden` (every figure of it)."""

    programme = fields.Nested(StatsProgramme, required=True)
    filters = fields.Nested(StatsFilters, required=True)
    generated_at = fields.DateTime(required=True)
    as_of = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "when the figures were rolled up (UTC)"},
    )
    issue_months = fields.Nested(StatsIssueMonths, required=True)
    suppressed_below = fields.Integer(required=True)
    markers = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "what each marker a figure may read means"},
    )
    headline = fields.Nested(StatsHeadline, required=True)
    tables = fields.Nested(StatsTables, required=True)
