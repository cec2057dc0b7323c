"""The marketplace's models and the rules that govern their states, one module per aggregate.

Every change of state is a method that refuses an illegal move with a named domain error; nothing sets
a `status` field from outside. Rules that concurrency could break are also backed by database
constraints (partial unique indexes, check constraints), which the services turn into domain errors.

The aggregates: `people` (entrepreneurs, staff), `reference` (trades, regions), `programmes`,
`providers`, `vouchers` (with bookings and impressions), `sessions` (with confirmation codes and
ratings), `payouts` (with the payout accounts money goes to, `payout_accounts`). The infrastructure tables, each in its own module: `signin` (API keys, login
codes), `audit`, `outbox`, `inbound_sms`, `ussd_sessions`, `stats` (roll-ups). Every name is
importable from here as well, and importing this package declares every table (Alembic's
autogenerate and `db.metadata` see them all).
"""

from __future__ import annotations

from ..base import JSONType

# The periodic jobs' rows live beside their rules (domain/jobs.py); imported here so the metadata
# holds every table.
from ..jobs import Heartbeat, JobRun, ScheduledJob
from .audit import AuditEvent
from .inbound_sms import InboundSms
from .outbox import (
    OUTBOX_QUEUED,
    OUTBOX_WENT_OUT,
    EarlyDeliveryReport,
    OutboxMessage,
    OutboxStatus,
    outbox_backlog_states,
    outbox_resendable_states,
)
from .payments import (
    FINAL_STATES,
    OPEN_STATES,
    FailureClass,
    PayeeCheck,
    PayeeCheckStatus,
    Payment,
    PaymentCallback,
    PaymentChannel,
    PaymentState,
)
from .payout_accounts import PayoutAccount, PayoutAccountKind, PayoutAccountStatus
from .payouts import Payout, PayoutRun, PayoutStatus
from .people import Entrepreneur, Gender, Language, Role, StaffUser, first_name
from .programmes import PayoutSchedule, Programme
from .providers import Provider, ProviderKind, ProviderStaff, ProviderStatus, provider_trades
from .reference import Region, Trade
from .sessions import ConfirmationCode, Rating, SessionStatus, TrainingSession
from .signin import ApiKey, LoginCode, LoginCodeGuess, StaffSignInAttempt
from .stats import StatsChange, StatsEventCell, StatsRefresh, StatsVoucherCell
from .ussd_sessions import UssdSession
from .vouchers import (
    ACTIVE_VOUCHER_STATUSES,
    Booking,
    BookingStatus,
    Channel,
    Impression,
    Voucher,
    VoucherStatus,
)

__all__ = [
    "ACTIVE_VOUCHER_STATUSES",
    "FINAL_STATES",
    "OPEN_STATES",
    "OUTBOX_QUEUED",
    "OUTBOX_WENT_OUT",
    "ApiKey",
    "AuditEvent",
    "Booking",
    "BookingStatus",
    "Channel",
    "ConfirmationCode",
    "EarlyDeliveryReport",
    "Entrepreneur",
    "FailureClass",
    "Gender",
    "Heartbeat",
    "Impression",
    "InboundSms",
    "JSONType",
    "JobRun",
    "Language",
    "LoginCode",
    "LoginCodeGuess",
    "OutboxMessage",
    "OutboxStatus",
    "PayeeCheck",
    "PayeeCheckStatus",
    "Payment",
    "PaymentCallback",
    "PaymentChannel",
    "PaymentState",
    "Payout",
    "PayoutAccount",
    "PayoutAccountKind",
    "PayoutAccountStatus",
    "PayoutRun",
    "PayoutSchedule",
    "PayoutStatus",
    "Programme",
    "Provider",
    "ProviderKind",
    "ProviderStaff",
    "ProviderStatus",
    "Rating",
    "Region",
    "Role",
    "ScheduledJob",
    "SessionStatus",
    "StaffSignInAttempt",
    "StaffUser",
    "StatsChange",
    "StatsEventCell",
    "StatsRefresh",
    "StatsVoucherCell",
    "Trade",
    "TrainingSession",
    "UssdSession",
    "Voucher",
    "VoucherStatus",
    "first_name",
    "outbox_backlog_states",
    "outbox_resendable_states",
    "provider_trades",
]
