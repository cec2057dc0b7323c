"""Every word on the mentor pages, in English and Kiswahili (words shared with the officers'
pages are in `web/i18n.py`)."""

from __future__ import annotations

from typing import Any

from ..i18n import LANGUAGES, SHARED, Texts, merge, translate

__all__ = ["LANGUAGES", "TEXTS", "t"]

MENTOR: Texts = {
    "mentor_page": {"en": "Mentor page", "sw": "Ukurasa wa mwalimu"},
    "nav_bookings": {"en": "Trainees", "sw": "Wanafunzi"},
    "nav_sessions": {"en": "Sessions", "sw": "Vipindi"},
    "nav_statement": {"en": "Payments", "sw": "Malipo"},
    # sign-in
    "signin_title": {"en": "Mentor sign-in", "sw": "Mwalimu: kuingia"},
    "signin_intro": {
        "en": "Enter the phone number you registered with. We will send you a code by SMS.",
        "sw": "Weka nambari ya simu uliyosajiliwa nayo. Tutakutumia nambari ya siri kwa SMS.",
    },
    "send_code": {"en": "Send me a code", "sw": "Nitumie nambari"},
    "code_title": {"en": "Enter your code", "sw": "Weka nambari yako"},
    "code_sent": {
        "en": "If {phone} belongs to a mentor, a 6-digit code is on its way by SMS. "
        "It works for {minutes} minutes.",
        "sw": "Ikiwa {phone} ni ya mwalimu, nambari ya tarakimu 6 inakuja kwa SMS. "
        "Inafanya kazi kwa dakika {minutes}.",
    },
    "code": {"en": "Code from the SMS", "sw": "Nambari kutoka SMS"},
    "send_again": {"en": "Send a new code", "sw": "Tuma nambari mpya"},
    "other_number": {"en": "Use another number", "sw": "Tumia nambari nyingine"},
    "bad_phone": {
        "en": "Enter a valid phone number, like 0712 345678.",
        "sw": "Weka nambari sahihi ya simu, kama 0712 345678.",
    },
    "too_many_codes": {
        "en": "Too many codes asked for this number. Wait 15 minutes and try again.",
        "sw": "Nambari nyingi mno zimeombwa. Subiri dakika 15 ujaribu tena.",
    },
    "code_invalid": {
        "en": "That code is wrong or has expired. Check the SMS and try again.",
        "sw": "Nambari si sahihi au imeisha muda. Angalia SMS ujaribu tena.",
    },
    "signin_locked": {
        "en": "Too many wrong codes. Ask for a new code later.",
        "sw": "Umekosea mara nyingi mno. Omba nambari mpya baadaye.",
    },
    # bookings
    "bookings_title": {"en": "My trainees", "sw": "Wanafunzi wangu"},
    "no_bookings": {
        "en": "Nobody has booked you yet. Trainees choose you by USSD or SMS.",
        "sw": "Bado hakuna aliyekuchagua. Wanafunzi huchagua kwa USSD au SMS.",
    },
    "sessions_used": {"en": "Sessions confirmed", "sw": "Vipindi vilivyothibitishwa"},
    "sessions_left": {"en": "Sessions left", "sw": "Vipindi vilivyobaki"},
    "waiting": {"en": "Waiting for answer", "sw": "Vinasubiri jibu"},
    "expires": {"en": "Voucher expires", "sw": "Vocha inaisha"},
    "booked": {"en": "Booked", "sw": "Amechagua"},
    "record_session": {"en": "Record a session", "sw": "Andika kipindi"},
    "finished": {"en": "Finished", "sw": "Imekamilika"},
    "booking_active": {"en": "Active", "sw": "Inaendelea"},
    "booking_completed": {"en": "Completed", "sw": "Imekamilika"},
    "booking_closed": {"en": "Closed (voucher ended)", "sw": "Imefungwa (vocha imeisha)"},
    "booking_cancelled": {"en": "Cancelled", "sw": "Imeghairiwa"},
    # record
    "record_title": {"en": "Record a session with {name}", "sw": "Andika kipindi na {name}"},
    "date": {"en": "Date (day/month/year)", "sw": "Tarehe (siku/mwezi/mwaka)"},
    "duration": {"en": "Duration in minutes", "sw": "Muda kwa dakika"},
    "topic": {"en": "Topic", "sw": "Mada"},
    "outcomes": {"en": "What the trainee learnt", "sw": "Mwanafunzi amejifunza nini"},
    "action_points": {"en": "Action points", "sw": "Hatua za kuchukua"},
    "save": {"en": "Save the session", "sw": "Hifadhi kipindi"},
    "recorded_ok": {
        "en": "Session recorded, reference {ref}. {name} gets an SMS to confirm it, or can "
        "give you a code from the USSD menu.",
        "sw": "Kipindi kimeandikwa, kumbukumbu {ref}. {name} atapata SMS kukithibitisha, au "
        "atakupa nambari kutoka menyu ya USSD.",
    },
    "cannot_record": {
        "en": "No more sessions can be recorded for this trainee now.",
        "sw": "Huwezi kuandika vipindi zaidi kwa mwanafunzi huyu sasa.",
    },
    "bad_date": {
        "en": "Enter the date as day/month/year, within the last 30 days.",
        "sw": "Weka tarehe kama siku/mwezi/mwaka, ndani ya siku 30 zilizopita.",
    },
    "bad_duration": {
        "en": "Enter the minutes as a number from 1 to 720.",
        "sw": "Weka dakika kama nambari kati ya 1 na 720.",
    },
    "bad_topic": {
        "en": "Say what the session covered (up to 200 characters).",
        "sw": "Eleza kipindi kilihusu nini (herufi 200 au chache).",
    },
    "bad_notes": {"en": "The text is too long.", "sw": "Maandishi ni marefu mno."},
    "voucher_expired": {"en": "This voucher has expired.", "sw": "Vocha hii imeisha muda."},
    "voucher_revoked": {"en": "This voucher was cancelled.", "sw": "Vocha hii ilifutwa."},
    "voucher_fully_used": {
        "en": "Every session of this voucher is recorded; wait for the trainee to confirm.",
        "sw": "Vipindi vyote vya vocha hii vimeandikwa; subiri mwanafunzi athibitishe.",
    },
    "not_active": {"en": "This booking is no longer active.", "sw": "Nafasi hii haitumiki tena."},
    # sessions
    "sessions_title": {"en": "My sessions", "sw": "Vipindi vyangu"},
    "no_sessions": {"en": "No sessions recorded yet.", "sw": "Bado hakuna kipindi."},
    "session_title": {"en": "Session {ref}", "sw": "Kipindi {ref}"},
    "trainee": {"en": "Trainee", "sw": "Mwanafunzi"},
    "minutes": {"en": "{n} min", "sw": "dakika {n}"},
    "state": {"en": "State", "sw": "Hali"},
    "value": {"en": "Value", "sw": "Thamani"},
    "paid": {"en": "paid", "sw": "imelipwa"},
    "confirm_intro": {
        "en": "Ask the trainee to dial the USSD menu, choose 'Confirm a session' and tell you "
        "the code. Type it here.",
        "sw": "Mwambie mwanafunzi apige menyu ya USSD, achague 'Thibitisha kipindi' na akupe "
        "nambari. Iandike hapa.",
    },
    "trainee_code": {"en": "Trainee's code", "sw": "Nambari ya mwanafunzi"},
    "confirm": {"en": "Confirm", "sw": "Thibitisha"},
    "confirmed_ok": {
        "en": "Confirmed. {value} is added to your payments.",
        "sw": "Imethibitishwa. {value} imeongezwa kwenye malipo yako.",
    },
    "code_locked": {
        "en": "Too many wrong codes for this session. The trainee can still reply YES by SMS.",
        "sw": "Nambari zisizo sahihi nyingi mno. Mwanafunzi bado anaweza kujibu NDIYO kwa SMS.",
    },
    "already_answered": {
        "en": "This session was already answered.",
        "sw": "Kipindi hiki kimeshajibiwa.",
    },
    "outcomes_short": {"en": "Learnt", "sw": "Amejifunza"},
    "actions_short": {"en": "Actions", "sw": "Hatua"},
    # statement
    "statement_title": {"en": "My payments", "sw": "Malipo yangu"},
    "earned": {"en": "Earned", "sw": "Umepata"},
    "paid_total": {"en": "Paid", "sw": "Umelipwa"},
    "pending": {"en": "Still to be paid", "sw": "Bado kulipwa"},
    "held": {
        "en": "Held until the programme checks it",
        "sw": "Imesitishwa hadi programu ikague",
    },
    "no_earnings": {
        "en": "Nothing earned yet: a session counts once the trainee confirms it.",
        "sw": "Bado hakuna mapato: kipindi huhesabiwa mwanafunzi akikithibitisha.",
    },
    "payouts": {"en": "Payments made", "sw": "Malipo yaliyofanywa"},
    "no_payouts": {"en": "No payments yet.", "sw": "Bado hakuna malipo."},
    "period_to": {"en": "Up to", "sw": "Hadi"},
}


TEXTS = merge(SHARED, MENTOR)


def t(key: str, language: str, **params: Any) -> str:
    return translate(TEXTS, key, language, **params)
