"""SMS keyword commands: what an entrepreneur can do by SMS alone.

An SMS is read as a command (`keywords.py`), answered by one small handler per keyword that calls
one service (`handlers.py`), in words of one SMS part (`replies.py`), where one table also turns
a service's refusal into a reply. Every inbound SMS is stored once, in the same transaction as
the change its command makes and its reply.

Commands (English and Kiswahili keywords, any case and punctuation; see `parse` for the small
misspellings tolerated):

    HELP / MSAADA                     the list of commands
    BAL / SALIO                       my vouchers
    FIND / TAFUTA <trade> [area|ALL]  bookable mentors with their numbers (recorded as impressions)
    MORE / ZAIDI                      the next page of the last list
    BOOK / CHAGUA / WEKA <no.> [voucher code]
    CANCEL / GHAIRI [mentor no.|voucher code]   cancel a booking before its first session
    YES / NDIO <ref>, NO / HAPANA <ref>   confirm or dispute a recorded session
    RATE / KADIRIA <ref> <1-5>
    STOP / ACHA, START / ANZA         reminders off / on (essential messages still come)
    LANG / LUGHA EN|SW

A list sent by FIND is remembered on the inbound row (`reply_kind = "find:<listing id>"`), so the
BOOK that follows records the pick against the list it came from.
"""

from .handlers import REPLY_LIMIT_PER_HOUR, handle_inbound
from .keywords import KEYWORDS, NOT_KEYWORDS, Command, parse, tokens
from .replies import listing_text

__all__ = [
    "KEYWORDS",
    "NOT_KEYWORDS",
    "REPLY_LIMIT_PER_HOUR",
    "Command",
    "handle_inbound",
    "listing_text",
    "parse",
    "tokens",
]
