"""The officers' forms as schemas: what each field must be, each refusal named by the key of its
words in the catalogue's `admin.` section (the page says them in its language). The bounds are
the domain's (`domain/limits.py`), as the service's and the API's are; what only the service can
tell (a name taken, a bound passed, said with the bound) it refuses after the form.

A form's fields arrive as the text typed: each schema loads them into the service's command.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from ...domain import limits
from ...domain.models import PayoutSchedule
from ...domain.money import exponent
from ...domain.people import NewEntrepreneur
from ...services.payout_account_changes import NewPayoutAccount
from ...services.programmes import NewProgramme, ProgrammeChange
from ...services.providers import NewProvider, ProviderChange
from ..fields import within

MAX_UPLOAD = 16 * 1024 * 1024  # a CSV of people, read whole
_WHOLE = re.compile(r"-?[0-9]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DIGITS = re.compile(r"[0-9]+")


def parse_money(raw: str, currency: str) -> int | None:
    """'4,000' or '4000.50' in major units -> minor units; None when it is not an amount."""
    text = raw.strip().replace(",", "").replace(" ", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    minor = amount * (10 ** exponent(currency))
    if minor != minor.to_integral_value():
        return None
    return int(minor)


def _words(raw: str) -> str:
    return " ".join(raw.split())


class Filled(fields.String):
    """Text with something in it besides spaces; `error` names the words when it has not."""

    def __init__(self, error: str, **kwargs: Any) -> None:
        super().__init__(
            required=True, error_messages={"required": error, "blank": error}, **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise self.make_error("blank")
        return text


class _Typed(fields.Field):
    """A field read from the text typed; missing is refused as not that kind of value."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=True, **kwargs)
        self.error_messages["required"] = self.error_messages["invalid"]


class WholeNumber(_Typed):
    """A whole number as typed: '1,000' or ' 12 '."""

    default_error_messages = {"invalid": "whole_number"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        raw = str(value).strip().replace(",", "")
        if not _WHOLE.fullmatch(raw):
            raise self.make_error("invalid")
        return int(raw)


class Digits(WholeNumber):
    """An id or a year as typed: digits only; `error` names the words when it is not."""

    def __init__(self, error: str, **kwargs: Any) -> None:
        super().__init__(error_messages={"invalid": error, "required": error}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        raw = str(value).strip()
        if not _DIGITS.fullmatch(raw):
            raise self.make_error("invalid")
        return int(raw)


class Currency(_Typed):
    """A three-letter currency code, any case."""

    default_error_messages = {"invalid": "bad_currency"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = str(value).strip().upper()
        if not _CURRENCY.fullmatch(code):
            raise self.make_error("invalid")
        return code


class Day(_Typed):
    """A day written YYYY-MM-DD."""

    default_error_messages = {"invalid": "bad_period_end"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        try:
            return datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
        except ValueError:
            raise self.make_error("invalid") from None


def _text() -> fields.String:
    return fields.String(load_default="")


def _choices() -> fields.List:
    return fields.List(fields.String(), load_default=list)


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


class _ProgrammeTerms(_Form):
    """What a programme's creation and its change both read."""

    budget = _text()
    # Too long a validity or window is the service's to refuse, saying the bound.
    validity_days = WholeNumber(
        validate=validate.Range(min=limits.VALIDITY_DAYS.low, error="bad_validity")
    )
    confirmation_window_hours = WholeNumber(
        validate=validate.Range(min=limits.CONFIRMATION_WINDOW_HOURS.low, error="bad_window")
    )
    trades = _choices()
    regions = _choices()
    co_payment_percent = WholeNumber(validate=within(limits.CO_PAYMENT_PERCENT, "bad_co_payment"))
    co_payment_required = _text()  # a checkbox: "1" when ticked


class ProgrammeForm(_ProgrammeTerms):
    name = Filled("need_programme_name")
    funder = Filled("need_funder")
    currency = Currency()
    voucher_value = _text()
    sessions_per_voucher = WholeNumber(
        validate=within(limits.SESSIONS_PER_VOUCHER, "bad_sessions_per_voucher")
    )

    @validates_schema(skip_on_field_errors=False)
    def _amounts(self, data: dict[str, Any], **_kwargs: Any) -> None:
        currency = data.get("currency") or "KES"
        refused = {
            name: [error]
            for name, error in (("voucher_value", "bad_voucher_value"), ("budget", "bad_budget"))
            if not parse_money(data[name], currency)
        }
        if refused:
            raise ValidationError(refused)

    @post_load
    def _command(self, data: dict[str, Any], **_kwargs: Any) -> NewProgramme:
        currency = data["currency"]
        value = parse_money(data["voucher_value"], currency)
        budget = parse_money(data["budget"], currency)
        assert value is not None and budget is not None
        return NewProgramme(
            name=_words(data["name"]),
            funder=_words(data["funder"]),
            currency=currency,
            voucher_value_minor=value,
            sessions_per_voucher=data["sessions_per_voucher"],
            validity_days=data["validity_days"],
            budget_minor=budget,
            co_payment_percent=data["co_payment_percent"],
            co_payment_required=data["co_payment_required"] == "1",
            confirmation_window_hours=data["confirmation_window_hours"],
            eligible_trades=data["trades"],
            eligible_regions=data["regions"],
        )


class ProgrammeChangeForm(_ProgrammeTerms):
    """A running programme's change; the budget in the programme's currency."""

    payout_schedule = fields.String(
        required=True,
        validate=validate.OneOf([s.value for s in PayoutSchedule], error="bad_payout_schedule"),
        error_messages={"required": "bad_payout_schedule"},
    )

    def __init__(self, currency: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.currency = currency

    @validates_schema(skip_on_field_errors=False)
    def _amount(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not parse_money(data["budget"], self.currency):
            raise ValidationError({"budget": ["bad_budget"]})

    @post_load
    def _command(self, data: dict[str, Any], **_kwargs: Any) -> ProgrammeChange:
        budget = parse_money(data["budget"], self.currency)
        assert budget is not None
        return ProgrammeChange(
            validity_days=data["validity_days"],
            budget_minor=budget,
            confirmation_window_hours=data["confirmation_window_hours"],
            eligible_trades=data["trades"],
            eligible_regions=data["regions"],
            payout_schedule=data["payout_schedule"],
            co_payment_percent=data["co_payment_percent"],
            co_payment_required=data["co_payment_required"] == "1",
        )


class _ProviderPlace(_Form):
    """Where a provider is, what it teaches and how many it takes: registration and change."""

    phone = _text()
    region = _text()
    town = fields.String(
        load_default="",
        validate=validate.Length(max=limits.TOWN_MAX, error="town_too_long"),
    )
    capacity = WholeNumber(
        validate=validate.Range(
            min=limits.PROVIDER_CAPACITY.low,
            max=limits.PROVIDER_CAPACITY.high,
            error="bad_capacity",
        )
    )
    trades = _choices()


class ProviderChangeForm(_ProviderPlace):
    @post_load
    def _command(self, data: dict[str, Any], **_kwargs: Any) -> ProviderChange:
        return ProviderChange(
            phone=data["phone"],
            trades=data["trades"],
            region=data["region"],
            town=_words(data["town"]),
            capacity=data["capacity"],
        )


class ProviderForm(_ProviderPlace):
    kind = _text()
    name = Filled("need_business_name")
    contact_name = _text()
    language = _text()

    @post_load
    def _command(self, data: dict[str, Any], **_kwargs: Any) -> NewProvider:
        return NewProvider(
            kind=data["kind"],
            name=_words(data["name"]),
            phone=data["phone"],
            trades=data["trades"],
            region=data["region"],
            town=data["town"],
            capacity=data["capacity"],
            contact_name=_words(data["contact_name"]),
            language=data["language"] if data["language"] in ("en", "sw") else "en",
        )


class StaffForm(_Form):
    """Another person who signs in for a provider (an institute's staff)."""

    name = Filled("need_person_name")
    phone = _text()


class PayoutAccountForm(_Form):
    """A change of payout account: an M-Pesa number, or a bank's name and account number (the
    service checks the number is a Kenyan mobile and the account's characters)."""

    kind = fields.String(
        required=True,
        validate=validate.OneOf(["mpesa", "bank"], error="choose_account_kind"),
        error_messages={"required": "choose_account_kind"},
    )
    msisdn = _text()
    bank_name = _text()
    bank_account = _text()

    @post_load
    def _command(self, data: dict[str, Any], **_kwargs: Any) -> NewPayoutAccount:
        if data["kind"] == "mpesa":
            return NewPayoutAccount(kind="mpesa", msisdn=data["msisdn"])
        return NewPayoutAccount(
            kind="bank", bank_name=_words(data["bank_name"]), bank_account=data["bank_account"]
        )


class RevokeForm(_Form):
    """Why a voucher is revoked (the audit event keeps it), at most as long as the API takes."""

    reason = Filled(
        "need_reason", validate=validate.Length(max=limits.REASON_MAX, error="reason_too_long")
    )

    @post_load
    def _reason(self, data: dict[str, Any], **_kwargs: Any) -> str:
        return str(data["reason"]).strip()


class VoucherForm(_Form):
    """One voucher for one person; loads to (programme id, the person)."""

    programme_id = Digits("choose_programme")
    phone = _text()
    name = _text()
    gender = _text()
    birth_year = Digits("bad_birth_year")
    trade = _text()
    region = _text()
    language = _text()

    @post_load
    def _command(self, data: dict[str, Any], **_kwargs: Any) -> tuple[int, NewEntrepreneur]:
        return data["programme_id"], NewEntrepreneur(
            phone=data["phone"],
            name=data["name"],
            gender=data["gender"],
            birth_year=data["birth_year"],
            trade=data["trade"],
            region=data["region"],
            language=data["language"] or "en",
        )


class ImportForm(_Form):
    """A CSV of people for one programme; loads to (programme id, the file's bytes). The
    programme's field is `import_programme` on the page (the single voucher's is beside it)."""

    import_programme = Digits("choose_programme")
    file = fields.Raw(required=True, error_messages={"required": "choose_file"})

    @validates_schema(skip_on_field_errors=False)
    def _chosen(self, data: dict[str, Any], **_kwargs: Any) -> None:
        upload = data.get("file")
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError({"file": ["choose_file"]})

    @post_load
    def _read(self, data: dict[str, Any], **_kwargs: Any) -> tuple[int, bytes]:
        content = data["file"].stream.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise ValidationError({"file": ["file_too_large"]})
        return data["import_programme"], content


class PayoutForm(_Form):
    """A payout run: everything confirmed up to the end of a day, not after `today`."""

    currency = Currency()
    period_end = Day()

    def __init__(self, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

    @validates_schema(skip_on_field_errors=False)
    def _not_ahead(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "period_end" in data and data["period_end"] > self.today:
            raise ValidationError({"period_end": ["future_period_end"]})
