"""Every input and output of the JSON API as a marshmallow schema."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...domain.base import MAX_ID
from ...domain.models import Gender, Language, ProviderKind, VoucherStatus
from ...services import programmes

_NAME = validate.Length(min=1, max=120)


class ErrorSchema(Schema):
    class ErrorBody(Schema):
        code = fields.String(required=True)
        message = fields.String(required=True)
        details = fields.Dict(keys=fields.String(), metadata={"description": "field -> messages"})

    error = fields.Nested(ErrorBody, required=True)


class ProgrammeIn(Schema):
    """The bounds are the service's (`services.programmes`), declared here for the document."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=programmes.NAME_MAX))
    funder = fields.String(required=True, validate=validate.Length(min=1, max=programmes.NAME_MAX))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    voucher_value_minor = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=programmes.VOUCHER_VALUE_MAX_MINOR),
    )
    sessions_per_voucher = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=programmes.SESSIONS_PER_VOUCHER_MAX),
    )
    co_payment_percent = fields.Integer(
        load_default=0, strict=True, validate=validate.Range(min=0, max=100)
    )
    validity_days = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=programmes.VALIDITY_DAYS_MAX),
    )
    budget_minor = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=programmes.BUDGET_MAX_MINOR)
    )
    confirmation_window_hours = fields.Integer(
        load_default=72,
        strict=True,
        validate=validate.Range(min=1, max=programmes.CONFIRMATION_WINDOW_HOURS_MAX),
    )
    eligible_trades = fields.List(
        fields.String(validate=validate.Length(max=40)),
        load_default=list,
        validate=validate.Length(max=100),
    )
    eligible_regions = fields.List(
        fields.String(validate=validate.Length(max=40)),
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
    validity_days = fields.Integer()
    budget_minor = fields.Integer()
    committed_minor = fields.Integer()
    available_minor = fields.Integer()
    confirmation_window_hours = fields.Integer()
    eligible_trades = fields.List(fields.String())
    eligible_regions = fields.List(fields.String())
    created_at = fields.DateTime()


class ProviderIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ProviderKind]))
    name = fields.String(required=True, validate=_NAME)
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32))
    trades = fields.List(
        fields.String(validate=validate.Length(max=40)),
        required=True,
        validate=validate.Length(min=1, max=20),
    )
    region = fields.String(required=True, validate=validate.Length(min=1, max=40))
    town = fields.String(load_default="", validate=validate.Length(max=80))
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    payout_account = fields.String(load_default="", validate=validate.Length(max=60))
    contact_name = fields.String(load_default="", validate=validate.Length(max=120))
    language = fields.String(
        load_default="en", validate=validate.OneOf([x.value for x in Language])
    )


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


class ProviderQuery(Schema):
    status = fields.String(validate=validate.OneOf(["pending", "approved", "suspended"]))
    kind = fields.String(validate=validate.OneOf([k.value for k in ProviderKind]))
    region = fields.String(validate=validate.Length(max=40))
    trade = fields.String(validate=validate.Length(max=40))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class EntrepreneurIn(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=_NAME)
    gender = fields.String(required=True, validate=validate.OneOf([g.value for g in Gender]))
    birth_year = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1900, max=2100)
    )
    trade = fields.String(required=True, validate=validate.Length(min=1, max=40))
    region = fields.String(required=True, validate=validate.Length(min=1, max=40))
    language = fields.String(
        load_default="en", validate=validate.OneOf([x.value for x in Language])
    )


class EntrepreneurQuery(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32))


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


class VoucherIn(EntrepreneurIn):
    ref = fields.String(
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
    status = fields.String(validate=validate.OneOf([s.value for s in VoucherStatus]))
    phone = fields.String(validate=validate.Length(max=32))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class RevokeIn(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=200))


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
    status = fields.String(validate=validate.OneOf(["recorded", "confirmed", "disputed", "lapsed"]))
    programme_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    provider_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    needs_review = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class ReviewIn(Schema):
    decision = fields.String(
        required=True, validate=validate.OneOf(["overturn", "uphold", "clear"])
    )
    note = fields.String(load_default="", validate=validate.Length(max=500))


class PayoutRunIn(Schema):
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
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
    reference = fields.String(required=True, validate=validate.Length(min=1, max=80))


class StatsQuery(Schema):
    date_from = fields.Date(load_default=None, data_key="from")
    date_to = fields.Date(load_default=None, data_key="to")
    region = fields.String(load_default=None, validate=validate.Length(max=40))
    trade = fields.String(load_default=None, validate=validate.Length(max=40))
    gender = fields.String(load_default=None, validate=validate.OneOf([g.value for g in Gender]))

    @validates_schema
    def _range(self, data: dict[str, object], **_: object) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:  # type: ignore[operator]
            raise ValidationError("'from' must not be after 'to'.", "from")


class Page(Schema):
    next_after_id = fields.Integer(allow_none=True)
