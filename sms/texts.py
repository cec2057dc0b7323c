"""Every outbound SMS text, in English and Kiswahili. GSM-7 only; one part (160) where possible.

Pure data and formatting: services import this to write the outbox in their own transaction.
`tests/sms/test_texts.py` renders every template in both languages with long sample values and checks
the GSM-7 and length rules. Values people typed or named (provider and person names, topics) are cut
to `PARAM_LIMITS` so a long name cannot push a message into a second part.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .gsm import cut, to_gsm7

LANGUAGES = ("en", "sw")

# kind -> language -> template. `essential` kinds are sent even after STOP.
SMS: dict[str, dict[str, str]] = {
    "voucher_issued": {
        "en": "Ujuzi: voucher {code} worth {value} for {sessions} sessions of training, to "
        "{expiry}. Dial {ussd} or SMS FIND <trade> to {short} to choose a mentor.",
        "sw": "Ujuzi: vocha {code} ya {value}, vipindi {sessions} vya mafunzo, hadi {expiry}. "
        "Piga {ussd} au tuma TAFUTA <kazi> kwa {short} kuchagua mwalimu.",
    },
    "booking_made_entrepreneur": {
        "en": "Ujuzi: booked {provider} ({number}, {phone}) with voucher {code}. Call to plan "
        "the first session. To change, send CANCEL before it.",
        "sw": "Ujuzi: umemchagua {provider} ({number}, {phone}) kwa vocha {code}. Mpigie "
        "mpange kipindi cha kwanza. Kubadili tuma GHAIRI kabla yake.",
    },
    "booking_made_provider": {
        "en": "Ujuzi: new trainee {name} ({phone}), {trade}, {sessions} sessions. Record each "
        "session on the mentor page; they confirm it.",
        "sw": "Ujuzi: mwanafunzi mpya {name} ({phone}), {trade}, vipindi {sessions}. Andika kila "
        "kipindi kwenye ukurasa wa mwalimu.",
    },
    "booking_cancelled_provider": {
        "en": "Ujuzi: {name} cancelled their booking with you. The place is free again.",
        "sw": "Ujuzi: {name} ameghairi nafasi yake kwako. Nafasi iko wazi tena.",
    },
    "session_recorded": {
        "en": "Ujuzi: {provider} recorded a session on {date}: {topic}. Did it happen? Reply "
        "YES {ref} or NO {ref}.",
        "sw": "Ujuzi: {provider} ameandika kipindi cha {date}: {topic}. Kilifanyika? Jibu "
        "NDIO {ref} au HAPANA {ref}.",
    },
    "session_confirmed_mentor": {
        "en": "Ujuzi: {name} confirmed the session of {date} (ref {ref}). {value} added to your "
        "balance.",
        "sw": "Ujuzi: {name} amethibitisha kipindi cha {date} (na. {ref}). {value} imeongezwa "
        "kwenye salio lako.",
    },
    "session_disputed_mentor": {
        "en": "Ujuzi: {name} said the session of {date} (ref {ref}) did not happen. An officer "
        "will review it.",
        "sw": "Ujuzi: {name} amesema kipindi cha {date} (na. {ref}) hakikufanyika. Afisa "
        "atakikagua.",
    },
    "session_overturned_mentor": {
        "en": "Ujuzi: an officer checked the session of {date} (ref {ref}) and found it took "
        "place. {value} added to your balance.",
        "sw": "Ujuzi: afisa amekagua kipindi cha {date} (na. {ref}) na kukuta kilifanyika. "
        "{value} imeongezwa kwenye salio lako.",
    },
    "session_overturned_entrepreneur": {
        "en": "Ujuzi: an officer checked session {ref}, which you said did not happen, and found "
        "it took place. {left} of {total} sessions left on voucher {code}.",
        "sw": "Ujuzi: afisa amekagua kipindi {ref} ulichosema hakikufanyika, na kukuta "
        "kilifanyika. Vimebaki {left} kati ya {total} kwenye vocha {code}.",
    },
    "session_upheld_mentor": {
        "en": "Ujuzi: an officer checked the session of {date} (ref {ref}): it is not counted "
        "and will not be paid.",
        "sw": "Ujuzi: afisa amekagua kipindi cha {date} (na. {ref}): hakihesabiwi na hakitalipwa.",
    },
    "session_confirmed_entrepreneur": {
        "en": "Ujuzi: session {ref} confirmed. {left} of {total} sessions left on voucher {code}.",
        "sw": "Ujuzi: kipindi {ref} kimethibitishwa. Vimebaki {left} kati ya {total} kwenye "
        "vocha {code}.",
    },
    "voucher_completed": {
        "en": "Ujuzi: you finished your training with {provider}. How was it? Reply RATE {ref} "
        "and one number from 1 (poor) to 5 (very good).",
        "sw": "Ujuzi: umemaliza mafunzo na {provider}. Yalikuwaje? Jibu KADIRIA {ref} na namba "
        "moja kuanzia 1 (mbaya) hadi 5 (vizuri sana).",
    },
    "voucher_expiring": {
        "en": "Ujuzi: voucher {code} expires on {expiry} with {left} sessions unused. Dial {ussd} "
        "to book or confirm sessions.",
        "sw": "Ujuzi: vocha {code} itaisha {expiry}, vipindi {left} havijatumika. Piga {ussd} "
        "kuchagua au kuthibitisha vipindi.",
    },
    "voucher_revoked": {
        "en": "Ujuzi: voucher {code} was cancelled by the programme. Call the programme office "
        "if this is a mistake.",
        "sw": "Ujuzi: vocha {code} imefutwa na mpango. Piga ofisi ya mpango kama ni kosa.",
    },
    "payout_made": {
        "en": "Ujuzi: {value} paid for {sessions} confirmed sessions, ref {reference}. Thank you "
        "for training with us.",
        "sw": "Ujuzi: {value} imelipwa kwa vipindi {sessions} vilivyothibitishwa, na. {reference}. "
        "Asante.",
    },
    "login_code": {
        "en": "Ujuzi mentor sign-in code: {code}. It expires in {minutes} minutes. Do not share "
        "it.",
        "sw": "Nambari ya kuingia Ujuzi: {code}. Itaisha baada ya dakika {minutes}. Usimpe mtu.",
    },
    "provider_approved": {
        "en": "Ujuzi: {provider} is approved as a mentor, number {number}. Trainees can now find "
        "and book you.",
        "sw": "Ujuzi: {provider} amekubaliwa kuwa mwalimu, nambari {number}. Wanafunzi sasa "
        "wanaweza kukuchagua.",
    },
}

# Sent even to people who replied STOP: they carry money, codes or answers to the person's own
# request.
ESSENTIAL = frozenset(
    {
        "voucher_issued",
        "booking_made_entrepreneur",
        "booking_made_provider",
        "session_recorded",
        "session_confirmed_entrepreneur",  # STOP's reply promises SMS about sessions still come
        "voucher_completed",
        "session_confirmed_mentor",
        "session_disputed_mentor",
        "session_overturned_mentor",  # an officer's decision on a session, as the above
        "session_overturned_entrepreneur",
        "session_upheld_mentor",
        "payout_made",
        "login_code",
        "voucher_revoked",
        "reply",
        "provider_approved",
        "booking_cancelled_provider",
    }
)

# Every kind of message the outbox takes: the templates above, and replies to SMS commands.
KINDS = frozenset({*SMS, "reply"})


class IfOutcomeUnknown(StrEnum):
    """What the worker does with a message the gateway may or may not have taken (it read the
    request, then timed out or dropped the connection: the API has no idempotency key)."""

    # A second copy does no harm (a code, a notice, a question answered once): the same text is
    # sent again, with backoff.
    RESEND = "resend"
    # A second copy could mislead about money (paid twice? credited twice?): the message waits in
    # the outbox state `unknown` until a delivery report settles it or an officer decides.
    HOLD = "hold"


ON_UNKNOWN_OUTCOME: dict[str, IfOutcomeUnknown] = {
    "voucher_issued": IfOutcomeUnknown.RESEND,  # the code again: nothing new is granted
    "booking_made_entrepreneur": IfOutcomeUnknown.RESEND,
    "booking_made_provider": IfOutcomeUnknown.RESEND,
    "booking_cancelled_provider": IfOutcomeUnknown.RESEND,
    "session_recorded": IfOutcomeUnknown.RESEND,  # YES/NO <ref> is answered once whatever comes
    "session_confirmed_entrepreneur": IfOutcomeUnknown.RESEND,
    "session_disputed_mentor": IfOutcomeUnknown.RESEND,
    "session_overturned_entrepreneur": IfOutcomeUnknown.RESEND,
    "session_upheld_mentor": IfOutcomeUnknown.RESEND,  # says nothing is paid: twice is the same
    "voucher_completed": IfOutcomeUnknown.RESEND,  # RATE <ref> counts once
    "voucher_expiring": IfOutcomeUnknown.RESEND,
    "voucher_revoked": IfOutcomeUnknown.RESEND,
    "login_code": IfOutcomeUnknown.RESEND,  # the same code, still valid
    "provider_approved": IfOutcomeUnknown.RESEND,
    "reply": IfOutcomeUnknown.RESEND,
    # "{value} added to your balance" twice reads as two sessions paid.
    "session_confirmed_mentor": IfOutcomeUnknown.HOLD,
    "session_overturned_mentor": IfOutcomeUnknown.HOLD,
    "payout_made": IfOutcomeUnknown.HOLD,  # "{value} paid": twice reads as two payments
}


# The longest a free-text value may be inside a message, in septets (an extension character such
# as [ takes two); longer ones are cut (with no ellipsis: "..." would cost three characters).
PARAM_LIMITS = {
    "provider": 28,
    "name": 20,
    "topic": 40,
    "trade": 28,
    "area": 16,
    "text": 20,
    "example": 30,
}


def _clean(params: dict[str, Any]) -> dict[str, str]:
    clean = {}
    for key, value in params.items():
        text = " ".join(to_gsm7(str(value)).split())
        limit = PARAM_LIMITS.get(key)
        clean[key] = cut(text, limit).rstrip() if limit else text
    return clean


def render(kind: str, language: str, **params: Any) -> str:
    templates = SMS[kind]
    template = templates.get(language) or templates["en"]
    return template.format(**_clean(params))


# Replies to SMS commands (outbox kind "reply"). `{sample}`s are filled by `reply()`.
REPLIES: dict[str, dict[str, str]] = {
    "help": {
        "en": "Ujuzi SMS: BAL my vouchers. FIND <trade> [area]. BOOK <mentor no.>. CANCEL. "
        "YES/NO <ref> for a session. RATE <ref> 1-5. LANG SW. STOP/START reminders.",
        "sw": "Ujuzi SMS: SALIO vocha zako. TAFUTA <kazi> [eneo]. CHAGUA <na. ya mwalimu>. "
        "GHAIRI. NDIO/HAPANA <na.> kwa kipindi. KADIRIA <na.> 1-5. LUGHA EN. ACHA/ANZA.",
    },
    "not_understood": {
        "en": 'Ujuzi: we did not understand "{text}". Send HELP for the list of commands, e.g. '
        "BAL, FIND tailoring, BOOK 40217.",
        "sw": 'Ujuzi: hatukuelewa "{text}". Tuma MSAADA kupata orodha ya maagizo, mfano SALIO, '
        "TAFUTA ushonaji, CHAGUA 40217.",
    },
    "did_you_mean": {
        "en": "Ujuzi: did you mean {keyword}? Nothing was done. To do it, send {example}. Send "
        "HELP for all commands.",
        "sw": "Ujuzi: ulimaanisha {keyword}? Hakuna kilichofanyika. Kufanya hivyo, tuma "
        "{example}. Tuma MSAADA kwa maagizo yote.",
    },
    "not_registered": {
        "en": "Ujuzi: this number has no training voucher yet. Vouchers come from a training "
        "programme office; ask them to register you. Then dial {ussd} or send HELP.",
        "sw": "Ujuzi: namba hii haina vocha ya mafunzo bado. Vocha hutolewa na ofisi ya mpango "
        "wa mafunzo; waombe wakusajili. Kisha piga {ussd} au tuma MSAADA.",
    },
    "mentor_number": {
        "en": "Ujuzi: this is a mentor's number. See your trainees, record sessions and see "
        "payments on the Ujuzi mentor page. SMS commands are for trainees.",
        "sw": "Ujuzi: hii ni namba ya mwalimu. Ona wanafunzi, andika vipindi na malipo kwenye "
        "ukurasa wa mwalimu wa Ujuzi. Maagizo ya SMS ni ya wanafunzi.",
    },
    "balance_header": {"en": "Ujuzi vouchers:", "sw": "Vocha za Ujuzi:"},
    "balance_free": {
        "en": "{code} not booked, {left}/{total} left, to {expiry}",
        "sw": "{code} wazi, vimebaki {left}/{total}, hadi {expiry}",
    },
    "balance_booked": {
        "en": "{code} {provider}, {left}/{total} left, to {expiry}",
        "sw": "{code} {provider}, vimebaki {left}/{total}, hadi {expiry}",
    },
    "balance_more": {"en": "+{count} more: dial {ussd}", "sw": "+{count} zaidi: piga {ussd}"},
    "balance_none": {
        "en": "Ujuzi: you have no active voucher. Ask your training programme office about a "
        "new one.",
        "sw": "Ujuzi: huna vocha inayotumika. Uliza ofisi ya mpango wako wa mafunzo kuhusu "
        "vocha mpya.",
    },
    "find_header": {"en": "{trade}, {area}:", "sw": "{trade}, {area}:"},
    "find_line": {
        "en": "{number} {provider} ({kind}{rating})",
        "sw": "{number} {provider} ({kind}{rating})",
    },
    "find_footer": {"en": "BOOK <no.>", "sw": "CHAGUA <na.>"},
    "find_more": {"en": " or MORE", "sw": " au ZAIDI"},
    "kind_craft_worker": {"en": "fundi", "sw": "fundi"},
    "kind_institute": {"en": "college", "sw": "chuo"},
    "all_areas": {"en": "all areas", "sw": "maeneo yote"},
    "find_none": {
        "en": "Ujuzi: no {trade} mentor is free in {area} now. Try FIND {tcode} <county> or "
        "FIND {tcode} ALL.",
        "sw": "Ujuzi: hakuna mwalimu wa {trade} mwenye nafasi {area} sasa. Jaribu TAFUTA "
        "{tcode} <kaunti> au TAFUTA {tcode} YOTE.",
    },
    "find_no_more": {
        "en": "Ujuzi: no more mentors in that list. Send FIND <trade> [area] for a new one.",
        "sw": "Ujuzi: hakuna walimu zaidi kwenye orodha hiyo. Tuma TAFUTA <kazi> [eneo] upate "
        "nyingine.",
    },
    "unknown_trade": {
        "en": 'Ujuzi: we do not know the trade "{text}". Try e.g. FIND tailoring, FIND '
        "welding, FIND salon, FIND mechanic, FIND carpentry.",
        "sw": 'Ujuzi: hatujui kazi "{text}". Jaribu mfano TAFUTA ushonaji, TAFUTA uchomeleaji, '
        "TAFUTA saluni, TAFUTA magari.",
    },
    "unknown_area": {
        "en": 'Ujuzi: we do not know the area "{text}". Send FIND {tcode} <county>, e.g. FIND '
        "{tcode} Nakuru, or FIND {tcode} ALL.",
        "sw": 'Ujuzi: hatujui eneo "{text}". Tuma TAFUTA {tcode} <kaunti>, mfano TAFUTA '
        "{tcode} Nakuru, au TAFUTA {tcode} YOTE.",
    },
    "book_usage": {
        "en": "Ujuzi: send BOOK and the mentor's number, e.g. BOOK 40217. Send FIND to get "
        "mentors' numbers.",
        "sw": "Ujuzi: tuma CHAGUA na namba ya mwalimu, mfano CHAGUA 40217. Tuma TAFUTA kupata "
        "namba za walimu.",
    },
    "booked_which": {
        "en": "Ujuzi: we used voucher {code}, the one expiring first ({expiry}). To use "
        "another, send CANCEL, then BOOK {number} <voucher code>.",
        "sw": "Ujuzi: tumetumia vocha {code}, inayoisha kwanza ({expiry}). Kutumia nyingine, "
        "tuma GHAIRI, kisha CHAGUA {number} <namba ya vocha>.",
    },
    "unknown_provider": {
        "en": "Ujuzi: no mentor has number {number}. Check the digits, or send FIND for a list "
        "of mentors and their numbers.",
        "sw": "Ujuzi: hakuna mwalimu mwenye namba {number}. Kagua namba, au tuma TAFUTA kupata "
        "orodha ya walimu na namba zao.",
    },
    "unknown_voucher": {
        "en": "Ujuzi: {number} is not one of your vouchers free to book. Send BAL to see your "
        "vouchers.",
        "sw": "Ujuzi: {number} si vocha yako iliyo wazi. Tuma SALIO kuona vocha zako.",
    },
    "no_free_voucher": {
        "en": "Ujuzi: you have no voucher free to book with. Send BAL to see your vouchers, or "
        "CANCEL to change mentor before your first session.",
        "sw": "Ujuzi: huna vocha iliyo wazi. Tuma SALIO kuona vocha zako, au GHAIRI kubadili "
        "mwalimu kabla ya kipindi cha kwanza.",
    },
    "provider_full": {
        "en": "Ujuzi: {provider} has no free place now. Send FIND to choose another mentor.",
        "sw": "Ujuzi: {provider} hana nafasi sasa. Tuma TAFUTA kuchagua mwalimu mwingine.",
    },
    "provider_not_bookable": {
        "en": "Ujuzi: {provider} cannot take you (not your trade or programme, or not taking "
        "trainees). Send FIND for mentors you can book.",
        "sw": "Ujuzi: {provider} hawezi kukupokea (si kazi yako au mpango wako, au hapokei "
        "wanafunzi). Tuma TAFUTA upate walimu.",
    },
    "cancelled": {
        "en": "Ujuzi: your booking with {provider} is cancelled. Voucher {code} is free again: "
        "send FIND to choose another mentor.",
        "sw": "Ujuzi: nafasi yako kwa {provider} imeghairiwa. Vocha {code} iko wazi tena: tuma "
        "TAFUTA kuchagua mwalimu mwingine.",
    },
    "cancel_which": {
        "en": "Ujuzi: which booking? Send CANCEL and its number, e.g. CANCEL {number}",
        "sw": "Ujuzi: nafasi ipi? Tuma GHAIRI na namba yake, mfano GHAIRI {number}",
    },
    "cancel_line": {"en": "{number} {provider}", "sw": "{number} {provider}"},
    "cancel_more": {
        "en": "+{count} more: send BAL for voucher codes",
        "sw": "+{count} zaidi: tuma SALIO upate namba za vocha",
    },
    "cancel_no_match": {
        "en": "Ujuzi: you have no booking with mentor or voucher number {text}, so nothing was "
        "cancelled. Send BAL to see your vouchers.",
        "sw": "Ujuzi: huna nafasi yenye namba ya mwalimu au vocha {text}, hivyo hakuna "
        "kilichoghairiwa. Tuma SALIO kuona vocha zako.",
    },
    "cannot_cancel": {
        "en": "Ujuzi: there is no booking to cancel. A booking can be cancelled only before "
        "its first confirmed session.",
        "sw": "Ujuzi: hakuna nafasi ya kughairi. Nafasi inaghairiwa tu kabla ya kipindi cha "
        "kwanza kuthibitishwa.",
    },
    "booking_changed": {
        "en": "Ujuzi: that booking changed as your SMS came in, so nothing was cancelled. Send "
        "BAL to see your bookings, then CANCEL again if you wish.",
        "sw": "Ujuzi: nafasi hiyo ilibadilika ujumbe wako ulipofika, hivyo hakuna "
        "kilichoghairiwa. Tuma SALIO kuona nafasi zako, kisha GHAIRI tena ukitaka.",
    },
    "cancel_answer_first": {
        "en": "Ujuzi: first answer session {ref} of {provider}: YES {ref} if it happened, NO "
        "{ref} if not. Then send CANCEL.",
        "sw": "Ujuzi: kwanza jibu kipindi {ref} cha {provider}: NDIO {ref} kama kilifanyika, "
        "HAPANA {ref} kama sivyo. Kisha tuma GHAIRI.",
    },
    "session_booking_cancelled": {
        "en": "Ujuzi: session {ref} belongs to a booking you cancelled, so it cannot be "
        "confirmed. Nothing changed.",
        "sw": "Ujuzi: kipindi {ref} ni cha nafasi uliyoghairi, hivyo hakiwezi kuthibitishwa. "
        "Hakuna kilichobadilika.",
    },
    "answer_usage": {
        "en": "Ujuzi: send YES <ref> if the session happened or NO <ref> if not. The ref is in "
        "the SMS that told you about the session.",
        "sw": "Ujuzi: tuma NDIO <na.> kama kipindi kilifanyika au HAPANA <na.> kama la. Namba "
        "iko kwenye SMS iliyokuambia kuhusu kipindi.",
    },
    "disputed": {
        "en": "Ujuzi: thank you. Session {ref} is marked as not held and an officer will look "
        "into it. Nothing is paid for it meanwhile.",
        "sw": "Ujuzi: asante. Kipindi {ref} kimeandikwa kuwa hakikufanyika na afisa atakikagua. "
        "Hakuna malipo kwa sasa.",
    },
    "unknown_session": {
        "en": "Ujuzi: you have no session with ref {ref}. Check the number in the SMS about the "
        "session.",
        "sw": "Ujuzi: huna kipindi chenye namba {ref}. Kagua namba kwenye SMS kuhusu kipindi.",
    },
    "already_answered": {
        "en": "Ujuzi: session {ref} was already answered ({status}). Nothing changed.",
        "sw": "Ujuzi: kipindi {ref} kilishajibiwa ({status}). Hakuna kilichobadilika.",
    },
    "session_lapsed": {
        "en": "Ujuzi: session {ref} can no longer be answered: the time to answer has passed, so "
        "it does not count. Ask your programme office if this is wrong.",
        "sw": "Ujuzi: kipindi {ref} hakiwezi kujibiwa tena: muda wa kujibu umepita, hivyo "
        "hakihesabiwi. Uliza ofisi ya mpango kama si sawa.",
    },
    "rate_usage": {
        "en": "Ujuzi: to rate, send RATE {ref} and one number from 1 (poor) to 5 (very good), "
        "nothing more. The ref is in the SMS about your session.",
        "sw": "Ujuzi: kukadiria, tuma KADIRIA {ref} na namba moja kuanzia 1 (mbaya) hadi 5 "
        "(vizuri sana), basi. Namba iko kwenye SMS ya kipindi.",
    },
    "rated": {
        "en": "Ujuzi: thank you for rating {provider} {stars} out of 5.",
        "sw": "Ujuzi: asante kwa kumpa {provider} alama {stars} kati ya 5.",
    },
    "already_rated": {
        "en": "Ujuzi: you already rated this. Each session or training is rated once.",
        "sw": "Ujuzi: ulishakadiria hii. Kila kipindi au mafunzo hukadiriwa mara moja.",
    },
    "not_rateable": {
        "en": "Ujuzi: session {ref} is not confirmed yet, so it cannot be rated.",
        "sw": "Ujuzi: kipindi {ref} bado hakijathibitishwa, hivyo hakiwezi kukadiriwa.",
    },
    "stopped": {
        "en": "Ujuzi: no more reminders. You will still get SMS about your vouchers, bookings "
        "and sessions. Send START to get reminders again.",
        "sw": "Ujuzi: hutapata vikumbusho tena. Bado utapata SMS kuhusu vocha, nafasi na vipindi "
        "vyako. Tuma ANZA kupata vikumbusho tena.",
    },
    "started": {
        "en": "Ujuzi: reminders are on again. Send STOP to turn them off.",
        "sw": "Ujuzi: vikumbusho vimewashwa tena. Tuma ACHA kuvizima.",
    },
    "language_set": {
        "en": "Ujuzi: we will write to you in English. Send LUGHA SW for Kiswahili.",
        "sw": "Ujuzi: tutakuandikia kwa Kiswahili. Tuma LANG EN for English.",
    },
    "voucher_expired": {
        "en": "Ujuzi: that voucher has expired. Ask your training programme office about a new "
        "one.",
        "sw": "Ujuzi: vocha hiyo imeisha muda. Uliza ofisi ya mpango wako wa mafunzo kuhusu "
        "vocha mpya.",
    },
    "voucher_not_usable": {
        "en": "Ujuzi: that voucher cannot be used ({reason}). Send BAL to see your vouchers.",
        "sw": "Ujuzi: vocha hiyo haiwezi kutumika ({reason}). Tuma SALIO kuona vocha zako.",
    },
    "failed": {
        "en": "Ujuzi: sorry, that could not be done now. Please try again later, or send HELP.",
        "sw": "Ujuzi: samahani, hilo haliwezekani sasa. Tafadhali jaribu tena baadaye, au tuma "
        "MSAADA.",
    },
}

# Short status words used inside replies.
WORDS: dict[str, dict[str, str]] = {
    "confirmed": {"en": "confirmed", "sw": "kimethibitishwa"},
    "disputed": {"en": "disputed", "sw": "kimekataliwa"},
    "lapsed": {"en": "lapsed", "sw": "kimepitwa na muda"},
    "revoked": {"en": "revoked", "sw": "imefutwa"},
    "completed": {"en": "all sessions used", "sw": "vipindi vimekwisha"},
    "booked": {"en": "already booked", "sw": "imeshachaguliwa"},
    "in_progress": {"en": "in use", "sw": "inatumika"},
    "ref": {"en": "<ref>", "sw": "<na.>"},
}


def reply(key: str, language: str, **params: Any) -> str:
    """A reply to an SMS command in the person's language."""
    templates = REPLIES[key]
    template = templates.get(language) or templates["en"]
    return template.format(**_clean(params))


def word(key: str, language: str) -> str:
    entry = WORDS.get(key)
    if entry is None:
        return key
    return entry.get(language) or entry["en"]
