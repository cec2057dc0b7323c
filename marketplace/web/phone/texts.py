"""Every word on the phone simulator page, in English and Kiswahili."""

from __future__ import annotations

from typing import Any

from ..i18n import SHARED, Texts, merge, translate

PHONE: Texts = {
    "phone_title": {"en": "Phone simulator", "sw": "Simu ya majaribio"},
    "phone_intro": {
        "en": "For development and training only. This page plays a basic phone against this app, "
        "through the same routes and forms Africa's Talking uses.",
        "sw": "Kwa majaribio na mafunzo tu. Ukurasa huu unaigiza simu ya kawaida dhidi ya huduma "
        "hii, kupitia njia na fomu zile zile za Africa's Talking.",
    },
    "phone_hint": {
        "en": "Any number works. The entrepreneurs' numbers that make run (flask seed-demo) "
        "prints hold vouchers.",
        "sw": "Nambari yoyote inafaa. Nambari za wajasiriamali zinazoonyeshwa na make run "
        "(flask seed-demo) zina vocha.",
    },
    "use_number": {"en": "Use this number", "sw": "Tumia nambari hii"},
    "bad_phone": {
        "en": "Enter a valid phone number, like +254712345678 or 0712 345678.",
        "sw": "Weka nambari sahihi ya simu, kama +254712345678 au 0712 345678.",
    },
    "number_first": {"en": "Enter a phone number first.", "sw": "Weka nambari ya simu kwanza."},
    "ussd_title": {"en": "USSD {code}", "sw": "USSD {code}"},
    "dial": {"en": "Dial {code}", "sw": "Piga {code}"},
    "your_input": {"en": "Your answer", "sw": "Jibu lako"},
    "send": {"en": "Send", "sw": "Tuma"},
    "hang_up": {"en": "Hang up", "sw": "Kata simu"},
    "dial_to_start": {"en": "Dial to see the menu.", "sw": "Piga ili uone menyu."},
    "session_ended": {"en": "Session ended.", "sw": "Kipindi kimeisha."},
    "not_a_screen": {
        "en": "The app answered without CON or END, so the gateway ends the session:",
        "sw": "Huduma ilijibu bila CON wala END, kwa hiyo kipindi kinaisha:",
    },
    "dial_first": {
        "en": "No USSD session is open: dial first.",
        "sw": "Hakuna kipindi cha USSD kilicho wazi: piga kwanza.",
    },
    "sms_title": {"en": "SMS to {short}", "sw": "SMS kwa {short}"},
    "message": {"en": "Message", "sw": "Ujumbe"},
    "send_sms": {"en": "Send SMS", "sw": "Tuma SMS"},
    "empty_sms": {"en": "Type a message first.", "sw": "Andika ujumbe kwanza."},
    "sms_sent": {
        "en": "SMS sent: the app answered {status}.",
        "sw": "SMS imetumwa: huduma ilijibu {status}.",
    },
    "inbox_title": {"en": "SMS for {phone}, newest first", "sw": "SMS za {phone}, mpya kwanza"},
    "inbox_empty": {"en": "No SMS for this number yet.", "sw": "Bado hakuna SMS kwa nambari hii."},
    "refresh": {"en": "Refresh", "sw": "Onyesha upya"},
    "no_answer": {
        "en": "The app did not answer ({reason}).",
        "sw": "Huduma haikujibu ({reason}).",
    },
}

TEXTS = merge(SHARED, PHONE)


def t(key: str, language: str, **params: Any) -> str:
    return translate(TEXTS, key, language, **params)
