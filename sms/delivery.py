"""What a delivery report says, by Africa's Talking's documented values: one table for the
`status`, one for the `failureReason`.

A status is in flight, delivered or failed; reports come twice and out of order, so each status has
a rank and a report is applied only when it moves the message forward: a final status (the
gateway's own word: `Success`, `Failed`, `Rejected`; and `Expired`, the network having discarded
the message) is never replaced. `AbsentSubscriber` (the phone was off or out of coverage) fails the
message but is not final: a later `Success` or `Failed` still counts. A status or failure reason not
in the tables takes a logged default: an unknown status changes nothing (it is neither a delivery
nor a failure we can name), an unknown reason fails the message with the reason as given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class Delivery(StrEnum):
    IN_FLIGHT = "in_flight"  # on its way: the message stays sent
    DELIVERED = "delivered"
    FAILED = "failed"  # with its reason


@dataclass(frozen=True)
class DeliveryStatus:
    verdict: Delivery
    rank: int  # a report is applied only over a lower rank
    final: bool
    meaning: str


DELIVERY_STATUSES: Mapping[str, DeliveryStatus] = {
    "Sent": DeliveryStatus(Delivery.IN_FLIGHT, 1, False, "sent by the gateway's network"),
    "Submitted": DeliveryStatus(Delivery.IN_FLIGHT, 2, False, "submitted to the mobile network"),
    "Buffered": DeliveryStatus(Delivery.IN_FLIGHT, 3, False, "queued by the mobile network"),
    "AbsentSubscriber": DeliveryStatus(
        Delivery.FAILED, 4, False, "the phone was off or out of coverage"
    ),
    "Success": DeliveryStatus(Delivery.DELIVERED, 5, True, "delivered to the phone"),
    "Failed": DeliveryStatus(Delivery.FAILED, 5, True, "could not be delivered to the phone"),
    "Rejected": DeliveryStatus(Delivery.FAILED, 5, True, "rejected by the mobile network"),
    "Expired": DeliveryStatus(
        Delivery.FAILED, 5, True, "discarded by the network (content or sender id flagged)"
    ),
}

# `failureReason`, given with `Failed` or `Rejected`. The gateway's documentation spells two of
# them in two ways; both are listed.
FAILURE_REASONS: Mapping[str, str] = {
    "InsufficientCredit": "the subscriber has too little airtime for a premium message",
    "InvalidLinkId": "invalid link id for an on-demand service",
    "UserIsInactive": "the subscriber's line is inactive or deactivated",
    "UserInBlackList": "the subscriber blocked messages from this sender",
    "UserInBlacklist": "the subscriber blocked messages from this sender",
    "UserAccountSuspended": "the subscriber's line is suspended",
    "NotNetworkSubscriber": "the number is not on the network it was sent to",
    "NotNetworkSubcriber": "the number is not on the network it was sent to",
    "UserNotSubscribedToProduct": "the subscriber is not subscribed to this product",
    "UserDoesNotExist": "the number does not exist",
    "DeliveryFailure": "the network gave no reason",
    "DoNotDisturbRejection": "the subscriber is on the do-not-disturb register",
}


@dataclass(frozen=True)
class Report:
    """A delivery report as the service reads it; `status` is None when it is not known."""

    status: DeliveryStatus | None
    error: str | None  # what `last_error` says of a failure


def read(status: str, failure_reason: str | None) -> Report:
    """The meaning of a report; unknown values are logged and take the defaults above."""
    known = DELIVERY_STATUSES.get(status)
    if known is None:
        log.warning("delivery report with an unknown status %r: left as it was", status[:40])
        return Report(None, None)
    if known.verdict != Delivery.FAILED:
        return Report(known, None)
    reason = (failure_reason or "").strip()
    if not reason:
        return Report(known, f"delivery: {status} ({known.meaning})")
    meaning = FAILURE_REASONS.get(reason)
    if meaning is None:
        log.warning("delivery report with an unknown failure reason %r", reason[:40])
        meaning = "a reason the gateway does not document"
    return Report(known, f"delivery: {status} {reason} ({meaning})")


def moves_forward(current: str | None, new: DeliveryStatus) -> bool:
    """Whether a report with status `new` replaces what a message's `current` status says."""
    if current is None:
        return True
    was = DELIVERY_STATUSES.get(current)
    if was is None:
        return True
    if was.final:
        return False
    return new.rank > was.rank
