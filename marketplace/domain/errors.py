"""Named domain errors. Each edge turns them into its own shape (JSON, HTML, USSD END, SMS reply)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A rule of the marketplace refused the request. `code` is stable; the message is for people."""

    code = "domain_error"

    def __init__(self, message: str | None = None, **context: object) -> None:
        super().__init__(message or self.__doc__ or self.code)
        self.message = message or (self.__doc__ or self.code).strip()
        self.context = context


class NotFound(DomainError):
    """Not found."""

    code = "not_found"


class InvalidInput(DomainError):
    """The input is not valid."""

    code = "invalid_input"


class UnknownSession(NotFound):
    """No session has that reference."""

    code = "not_found"  # the code it always had: clients read it


class NotEligible(InvalidInput):
    """The programme does not cover the person's trade or region."""

    code = "not_eligible"


class RegisteredDifferently(InvalidInput):
    """The person with this phone is registered with another trade or region."""

    code = "registered_differently"


class ForeignNumber(InvalidInput):
    """A phone number of another country than the one the service serves."""

    code = "foreign_number"


class IllegalTransition(DomainError):
    """That change of state is not allowed."""

    code = "illegal_transition"


class BudgetExceeded(DomainError):
    """The programme's budget cannot cover this voucher."""

    code = "budget_exceeded"


class VoucherNotUsable(DomainError):
    """This voucher cannot be used."""

    code = "voucher_not_usable"


class VoucherExpired(VoucherNotUsable):
    """This voucher has expired."""

    code = "voucher_expired"


class VoucherRevoked(VoucherNotUsable):
    """This voucher was revoked."""

    code = "voucher_revoked"


class VoucherAlreadyBooked(VoucherNotUsable):
    """This voucher is already booked with a provider."""

    code = "voucher_already_booked"


class VoucherFullyUsed(VoucherNotUsable):
    """All sessions of this voucher are used."""

    code = "voucher_fully_used"


class ProviderNotBookable(DomainError):
    """This provider cannot take bookings."""

    code = "provider_not_bookable"


class ProviderFull(ProviderNotBookable):
    """This provider has no free places."""

    code = "provider_full"


class CannotCancel(DomainError):
    """This booking can no longer be cancelled."""

    code = "cannot_cancel"


class SessionAwaitsAnswer(CannotCancel):
    """A session the mentor recorded waits for your yes or no: answer it first."""

    code = "session_awaits_answer"


class BookingNotActive(IllegalTransition):
    """The booking this session belongs to was cancelled."""

    code = "booking_not_active"


class SessionLapsed(IllegalTransition):
    """The time to answer this session has passed."""

    code = "session_lapsed"


class CodeInvalid(DomainError):
    """The code is wrong or has expired."""

    code = "code_invalid"


class TooManyAttempts(DomainError):
    """Too many wrong attempts. Ask for a new code."""

    code = "too_many_attempts"


class Forbidden(DomainError):
    """You may not do that."""

    code = "forbidden"


class AlreadyExists(DomainError):
    """It already exists."""

    code = "already_exists"


class ChangedSinceShown(DomainError):
    """What was shown is no longer what the answer would act on: nothing was done."""

    code = "changed_since_shown"


class BookingChanged(ChangedSinceShown):
    """The booking shown was cancelled or has ended since: nothing was cancelled."""

    code = "booking_changed"


class SessionAlreadyAnswered(IllegalTransition):
    """This session was already answered: nothing changed."""

    code = "session_already_answered"


class AlreadyBookedWithProvider(VoucherAlreadyBooked):
    """This voucher is already booked with this provider."""

    code = "already_booked_with_provider"


class SessionNotRateable(IllegalTransition):
    """Only a confirmed session can be rated."""

    code = "illegal_transition"  # the code it always had: clients read it


class AlreadyRated(AlreadyExists):
    """You already rated this."""

    code = "already_exists"  # the code it always had: clients read it


def most_specific(table: Mapping[type[DomainError], T], exc: DomainError) -> T | None:
    """The entry of `table` for the most specific class of `exc` it lists (each edge's table of
    what an error means there: a status, a reply)."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    return None


class SecondOfficerRequired(Forbidden):
    """Whoever proposed a change of where money goes cannot also approve it."""

    code = "second_officer_required"


class CoPaymentDue(DomainError):
    """The programme takes the entrepreneur's co-payment before the first session: record it
    received first. `share` names the amount."""

    code = "co_payment_due"


class NoCoPayment(IllegalTransition):
    """This voucher's programme asks no co-payment."""

    code = "no_co_payment"


class CoPaymentAlreadyRecorded(AlreadyExists):
    """The co-payment was recorded received already."""

    code = "co_payment_already_recorded"
