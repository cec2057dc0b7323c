"""Every outbound SMS text, in English and Kiswahili. GSM-7 only; one part (160) where possible.

Pure data and formatting: services import this to write the outbox in their own transaction.
`tests/unit/test_texts.py` renders every template in both languages with long sample values and checks
the GSM-7 and length rules.
"""

from __future__ import annotations

from typing import Any

from .gsm import to_gsm7

LANGUAGES = ("en", "sw")

# kind -> language -> template. `essential` kinds are sent even after STOP.
SMS: dict[str, dict[str, str]] = {
    "voucher_issued": {
        "en": "Ujuzi: voucher {code} worth {value} for {sessions} training sessions, valid to "
              "{expiry}. Dial {ussd} or SMS FIND <trade> to {short} to choose a mentor.",
        "sw": "Ujuzi: vocha {code} ya {value}, vipindi {sessions} vya mafunzo, hadi {expiry}. "
              "Piga {ussd} au tuma TAFUTA <kazi> kwa {short} kuchagua mwalimu.",
    },
    "booking_made_entrepreneur": {
        "en": "Ujuzi: booked {provider} (no. {number}, {phone}) with voucher {code}. Call them to "
              "agree your first session. To change, send CANCEL before it.",
        "sw": "Ujuzi: umemchagua {provider} (na. {number}, {phone}) kwa vocha {code}. Mpigie "
              "mpange kipindi cha kwanza. Kubadili, tuma GHAIRI kabla yake.",
    },
    "booking_made_provider": {
        "en": "Ujuzi: new trainee {name} ({phone}), {trade}, {sessions} sessions. Record each "
              "session on the mentor page; they confirm it.",
        "sw": "Ujuzi: mwanafunzi mpya {name} ({phone}), {trade}, vipindi {sessions}. Andika kila "
              "kipindi kwenye ukurasa wa mwalimu; atathibitisha.",
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
    "session_confirmed_entrepreneur": {
        "en": "Ujuzi: session {ref} confirmed. {left} of {total} sessions left on voucher {code}.",
        "sw": "Ujuzi: kipindi {ref} kimethibitishwa. Vimebaki {left} kati ya {total} kwenye "
              "vocha {code}.",
    },
    "voucher_completed": {
        "en": "Ujuzi: you finished your training with {provider}. How was it? Reply RATE {ref} "
              "1-5 (5 = very good).",
        "sw": "Ujuzi: umemaliza mafunzo na {provider}. Yalikuwaje? Jibu KADIRIA {ref} 1-5 "
              "(5 = vizuri sana).",
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
ESSENTIAL = frozenset({
    "voucher_issued", "booking_made_entrepreneur", "booking_made_provider", "session_recorded",
    "session_confirmed_mentor", "session_disputed_mentor", "payout_made", "login_code",
    "voucher_revoked", "reply", "provider_approved", "booking_cancelled_provider",
})

# When a send times out we cannot know whether it went; these kinds may be sent again safely.
DUPLICATE_TOLERABLE = frozenset({"login_code", "reply", "session_recorded", "voucher_expiring"})


def render(kind: str, language: str, **params: Any) -> str:
    templates = SMS[kind]
    template = templates.get(language) or templates["en"]
    clean = {k: to_gsm7(str(v)) for k, v in params.items()}
    return template.format(**clean)
