"""The gateway's callback forms as marshmallow schemas. Phone numbers come out in E.164."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from marketplace.domain import text
from marketplace.domain.phones import try_normalise


class Text(fields.String):
    """What the gateway sends, kept with its control characters cleaned away (`domain.text`):
    refusing it would lose a message the gateway will not send again. `multiline` keeps line
    breaks (an SMS)."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        return text.clean(raw, multiline=self.multiline)


class Recorded(Text):
    """A field the service only records (or shows): kept, cut to `max` characters, never a reason
    to drop the callback."""

    def __init__(self, *, max: int, **kwargs: Any) -> None:
        kwargs.setdefault("load_default", "")
        super().__init__(**kwargs)
        self.max = max

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs)[: self.max]


class Phone(Text):
    """A phone number normalised to E.164 with the configured default region."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        # An unencoded '+' in a form body arrives as a space; a bare 2547... is still read right.
        phone = try_normalise(raw.strip(), current_app.config.get("DEFAULT_PHONE_REGION", "KE"))
        if phone is None:
            raise ValidationError("not a valid phone number")
        return phone


class GatewayDate(fields.Field[datetime | None]):
    """'2017-05-03T06:04:45Z' or '2017-05-03 06:04:45' (UTC); only recorded, so a date that
    cannot be read is None (the service keeps its own clock), never a reason to drop the SMS."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> datetime | None:
        if not isinstance(value, str):
            return None
        raw = text.clean(value).strip()
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


# What each callback uses is validated (a hop without a session id cannot be answered); what it
# only records is `Recorded`: cut to its column, never refused.


class UssdHop(_Form):
    sessionId = Text(required=True, validate=validate.Length(min=1, max=100))
    serviceCode = Text(required=True, validate=validate.Length(min=1, max=40))
    phoneNumber = Phone(required=True, validate=validate.Length(max=40))
    networkCode = Recorded(max=10)
    text = Text(load_default="", validate=validate.Length(max=400))


class UssdEvent(_Form):
    sessionId = Text(required=True, validate=validate.Length(min=1, max=100))
    phoneNumber = Recorded(max=40)
    status = Recorded(max=20)
    cost = Recorded(max=20)
    durationInMillis = Recorded(max=20)
    hopsCount = Recorded(max=10)
    errorMessage = Recorded(max=300, multiline=True)


class InboundSms(_Form):
    id = Text(required=True, validate=validate.Length(min=1, max=100))
    from_ = Phone(required=True, data_key="from", validate=validate.Length(max=40))
    to = Recorded(max=20)
    # A long message (several parts) is kept and answered: its first 1,000 characters.
    text = Recorded(max=1000, multiline=True)
    date = GatewayDate(load_default=None)
    networkCode = Recorded(max=10)
    linkId = Recorded(max=100)

    @post_load
    def _default_date(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["date"] = data.get("date") or datetime.now(UTC)
        return data


class DeliveryReport(_Form):
    id = Text(required=True, validate=validate.Length(min=1, max=100))
    status = Text(required=True, validate=validate.Length(min=1, max=30))
    phoneNumber = Recorded(max=40)
    networkCode = Recorded(max=10)
    failureReason = Recorded(max=60)
    retryCount = Recorded(max=10)


__all__ = ["DeliveryReport", "InboundSms", "Schema", "UssdEvent", "UssdHop"]
