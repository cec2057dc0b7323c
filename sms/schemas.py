"""The gateway's callback forms as marshmallow schemas. Phone numbers come out in E.164."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from marketplace.domain.phones import try_normalise


class Phone(fields.String):
    """A phone number normalised to E.164 with the configured default region."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        # An unencoded '+' in a form body arrives as a space; a bare 2547... is still read right.
        phone = try_normalise(raw.strip(), current_app.config.get("DEFAULT_PHONE_REGION", "KE"))
        if phone is None:
            raise ValidationError("not a valid phone number")
        return phone


class GatewayDate(fields.Field[datetime]):
    """'2017-05-03T06:04:45Z' or '2017-05-03 06:04:45' (UTC)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ValidationError("not a date")
        raw = value.strip()
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("not a date") from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


class UssdHop(_Form):
    sessionId = fields.String(required=True, validate=validate.Length(min=1, max=100))
    serviceCode = fields.String(required=True, validate=validate.Length(min=1, max=40))
    phoneNumber = Phone(required=True, validate=validate.Length(max=40))
    networkCode = fields.String(load_default="", validate=validate.Length(max=10))
    text = fields.String(load_default="", validate=validate.Length(max=400))


class UssdEvent(_Form):
    sessionId = fields.String(required=True, validate=validate.Length(min=1, max=100))
    phoneNumber = fields.String(load_default="", validate=validate.Length(max=40))
    status = fields.String(load_default="", validate=validate.Length(max=20))
    cost = fields.String(load_default="", validate=validate.Length(max=20))
    durationInMillis = fields.String(load_default="", validate=validate.Length(max=20))
    hopsCount = fields.String(load_default="", validate=validate.Length(max=10))
    errorMessage = fields.String(load_default="", validate=validate.Length(max=300))


class InboundSms(_Form):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    from_ = Phone(required=True, data_key="from", validate=validate.Length(max=40))
    to = fields.String(load_default="", validate=validate.Length(max=20))
    text = fields.String(load_default="", validate=validate.Length(max=1000))
    date = GatewayDate(load_default=None)
    networkCode = fields.String(load_default="", validate=validate.Length(max=10))
    linkId = fields.String(load_default="", validate=validate.Length(max=100))

    @post_load
    def _default_date(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["date"] = data.get("date") or datetime.now(UTC)
        return data


class DeliveryReport(_Form):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    status = fields.String(required=True, validate=validate.Length(min=1, max=30))
    phoneNumber = fields.String(load_default="", validate=validate.Length(max=40))
    networkCode = fields.String(load_default="", validate=validate.Length(max=10))
    failureReason = fields.String(load_default="", validate=validate.Length(max=60))
    retryCount = fields.String(load_default="", validate=validate.Length(max=10))


__all__ = ["DeliveryReport", "InboundSms", "Schema", "UssdEvent", "UssdHop"]
