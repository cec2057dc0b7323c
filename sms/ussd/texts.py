"""Every USSD screen text, in English and Kiswahili.

Plain data: the screens format these with values (names already made GSM-7 and short). Keys group by
screen id. A few texts are bilingual on purpose: they are shown before we know who is dialling.
`tests/ussd/test_registry.py` renders every screen and every ending in both languages with long sample
values and checks the GSM-7 and 160-character rules.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "sw")

T: dict[str, dict[str, str]] = {
    # -- shared pieces
    "nav": {"en": "0 Back 00 Menu", "sw": "0 Rudi 00 Mwanzo"},
    "more": {"en": "9 More", "sw": "9 Zaidi"},
    "retry": {"en": "Please choose again.", "sw": "Tafadhali chagua tena."},
    "kind.craft_worker": {"en": "craft worker", "sw": "fundi"},
    "kind.institute": {"en": "institute", "sw": "chuo"},
    # "A craft worker in ...": Kiswahili's "of" agrees with the noun (fundi wa, chuo cha).
    "kind_in.craft_worker": {"en": "Craft worker in", "sw": "Fundi wa"},
    "kind_in.institute": {"en": "Institute in", "sw": "Chuo cha"},
    "rating.new": {"en": "new", "sw": "mpya"},
    "rating.none": {"en": "no ratings yet", "sw": "bado hajakadiriwa"},
    "rating.some": {"en": "{rating}/5, {count} ratings", "sw": "{rating}/5, kura {count}"},
    # -- main menu
    "main.title": {"en": "Ujuzi: hello {name}", "sw": "Ujuzi: habari {name}"},
    "main.language_set": {"en": "Language: English", "sw": "Lugha: Kiswahili"},
    "main.vouchers": {"en": "My vouchers", "sw": "Vocha zangu"},
    "main.find": {"en": "Find a mentor", "sw": "Tafuta mwalimu"},
    "main.confirm": {"en": "Confirm a session", "sw": "Thibitisha kipindi"},
    "main.rate": {"en": "Rate a mentor", "sw": "Kadiria mwalimu"},
    "main.cancel": {"en": "Cancel a booking", "sw": "Ghairi nafasi"},
    "main.language": {"en": "Language", "sw": "Lugha"},
    "main.help": {"en": "Help", "sw": "Msaada"},
    # -- my vouchers
    "vouchers.none": {
        "en": "You have no vouchers yet. Programme officers issue them: ask your programme office.",
        "sw": "Huna vocha bado. Maafisa wa mpango ndio hutoa vocha: uliza ofisi ya mpango.",
    },
    "vouchers.item": {
        "en": "Voucher {code} ({n}/{of})\n{status}\n{value}: used {used} of {total}, {left} "
        "left\n{dates}",
        "sw": "Vocha {code} ({n}/{of})\n{status}\n{value}: umetumia {used}/{total}, "
        "vimebaki {left}\n{dates}",
    },
    "vstatus.issued": {"en": "Not booked yet", "sw": "Bado hujachagua mwalimu"},
    "vstatus.booked": {"en": "Booked with {provider}", "sw": "Mwalimu: {provider}"},
    "vstatus.in_progress": {"en": "Training with {provider}", "sw": "Mafunzo na {provider}"},
    "vstatus.completed": {"en": "Completed with {provider}", "sw": "Imekamilika na {provider}"},
    "vstatus.expired": {"en": "Expired", "sw": "Imeisha muda"},
    "vstatus.revoked": {"en": "Cancelled by the programme", "sw": "Imefutwa na mpango"},
    "vouchers.valid_to": {"en": "Valid to {date}", "sw": "Inaisha {date}"},
    "vouchers.ended": {"en": "Ended {date}", "sw": "Iliisha {date}"},
    # -- find a mentor
    "find.trade.title": {"en": "Mentors for which trade?", "sw": "Walimu wa kazi gani?"},
    "find.area.title": {"en": "Mentors in which area?", "sw": "Walimu wa eneo gani?"},
    "find.area.own": {"en": "{region}", "sw": "{region}"},
    "find.area.any": {"en": "Any area", "sw": "Eneo lolote"},
    "find.area.type": {"en": "Type another county", "sw": "Andika kaunti nyingine"},
    "find.area_name.prompt": {
        "en": "Type the county name, for example Nakuru:",
        "sw": "Andika jina la kaunti, kwa mfano Nakuru:",
    },
    "find.area_name.unknown": {
        "en": "No county has that name.",
        "sw": "Hakuna kaunti yenye jina hilo.",
    },
    "find.list.title": {"en": "Choose a mentor:", "sw": "Chagua mwalimu:"},
    "find.list.empty": {
        "en": "No mentor with a free place was found here.",
        "sw": "Hakuna mwalimu mwenye nafasi hapa.",
    },
    "find.list.anywhere": {"en": "Look in any area", "sw": "Tafuta eneo lolote"},
    "find.details.text": {
        "en": "{name}\n{kind_in} {place}\nRating: {rating}\nMentor no. {number}",
        "sw": "{name}\n{kind_in} {place}\nKura: {rating}\nMwalimu na. {number}",
    },
    "find.details.book": {"en": "Book this mentor", "sw": "Mchague mwalimu huyu"},
    "find.details.full": {"en": "No free place now.", "sw": "Hana nafasi sasa."},
    "find.details.no_voucher": {
        "en": "No free voucher.",
        "sw": "Huna vocha iliyo wazi.",
    },
    "find.details.outside": {
        "en": "Area not in your voucher.",
        "sw": "Eneo nje ya vocha yako.",
    },
    "find.details.other_trade": {
        "en": "Teaches another trade.",
        "sw": "Anafundisha kazi nyingine.",
    },
    # -- booking
    "book.voucher.title": {"en": "Book with which voucher?", "sw": "Tumia vocha ipi?"},
    "book.voucher.item": {"en": "{code} to {date}", "sw": "{code} hadi {date}"},
    "book.confirm.text": {
        "en": "Book {name} with voucher {code} ({sessions} sessions)?",
        "sw": "Umchague {name} kwa vocha {code} (vipindi {sessions})?",
    },
    "book.confirm.yes": {"en": "Yes, book", "sw": "Ndio, mchague"},
    "book.done": {
        "en": "Booked {name}, mentor no. {number}. An SMS with their phone number is on its way: "
        "call them to agree your first session.",
        "sw": "Umemchagua {name}, mwalimu na. {number}. Utapata SMS yenye simu yake: mpigie "
        "mpange kipindi cha kwanza.",
    },
    # -- cancel a booking
    "cancel.none": {
        "en": "You have no booking to cancel. A booking can be cancelled until its first session "
        "is confirmed.",
        "sw": "Huna nafasi ya kughairi. Nafasi inaweza kughairiwa hadi kipindi cha kwanza "
        "kithibitishwe.",
    },
    "cancel.pick.title": {"en": "Cancel which booking?", "sw": "Ghairi nafasi ipi?"},
    "cancel.pick.item": {"en": "{name}, {code}", "sw": "{name}, {code}"},
    "cancel.confirm.text": {
        "en": "Cancel your booking with {name} (voucher {code})? You can then choose another "
        "mentor.",
        "sw": "Ughairi nafasi yako kwa {name} (vocha {code})? Kisha unaweza kuchagua mwalimu "
        "mwingine.",
    },
    "cancel.confirm.yes": {"en": "Yes, cancel", "sw": "Ndio, ghairi"},
    "cancel.done": {
        "en": "Your booking with {name} is cancelled. Choose Find a mentor to book another with "
        "voucher {code}.",
        "sw": "Nafasi yako kwa {name} imeghairiwa. Chagua Tafuta mwalimu ili umchague mwingine "
        "kwa vocha {code}.",
    },
    # -- confirm a session
    "confirm.title": {"en": "Confirm a session:", "sw": "Thibitisha kipindi:"},
    "confirm.code_option": {"en": "Show a code for my mentor", "sw": "Nipe namba ya kumpa mwalimu"},
    "confirm.list_option": {
        "en": "Sessions to confirm ({count})",
        "sw": "Vipindi vya kuthibitisha ({count})",
    },
    "confirm.code": {
        "en": "Your code: {code}\nTell it to your mentor to confirm today's session. It works "
        "once, for {minutes} minutes.",
        "sw": "Nambari yako: {code}\nMpe mwalimu wako athibitishe kipindi cha leo. Inatumika "
        "mara moja, kwa dakika {minutes}.",
    },
    "confirm.none": {
        "en": "No session is waiting for your answer.",
        "sw": "Hakuna kipindi kinachosubiri jibu lako.",
    },
    "confirm.list.title": {"en": "Which session?", "sw": "Kipindi kipi?"},
    "confirm.list.item": {"en": "{date} {topic}", "sw": "{date} {topic}"},
    "confirm.answer.text": {
        "en": "{provider} recorded a session on {date}, {minutes} min: {topic}. Did it happen?",
        "sw": "{provider} ameandika kipindi cha {date}, dakika {minutes}: {topic}. Kilifanyika?",
    },
    "confirm.answer.yes": {"en": "Yes", "sw": "Ndio"},
    "confirm.answer.no": {"en": "No", "sw": "Hapana"},
    "confirm.yes": {
        "en": "Thank you. Session {ref} is confirmed: {left} of {total} sessions left.",
        "sw": "Asante. Kipindi {ref} kimethibitishwa: vimebaki {left} kati ya {total}.",
    },
    "confirm.completed": {
        "en": "Thank you. Session {ref} is confirmed and your training is complete. Choose Rate "
        "a mentor to say how it was.",
        "sw": "Asante. Kipindi {ref} kimethibitishwa na mafunzo yamekamilika. Chagua Kadiria "
        "mwalimu kusema yalivyokuwa.",
    },
    "confirm.no": {
        "en": "Noted: session {ref} did not happen. An officer will look into it and may call you.",
        "sw": "Tumepokea: kipindi {ref} hakikufanyika. Afisa atakichunguza na anaweza kukupigia.",
    },
    # -- rate a mentor
    "rate.none": {
        "en": "Nothing to rate yet. You can rate your mentor after a confirmed session.",
        "sw": "Hakuna cha kukadiria bado. Utamkadiria mwalimu baada ya kipindi kuthibitishwa.",
    },
    "rate.pick.title": {"en": "Rate which session?", "sw": "Kadiria kipindi kipi?"},
    "rate.pick.item": {"en": "{date} {provider}", "sw": "{date} {provider}"},
    "rate.stars.title": {"en": "How good was {provider}?", "sw": "{provider} alikuwa vipi?"},
    "rate.stars.1": {"en": "Very poor", "sw": "Vibaya sana"},
    "rate.stars.2": {"en": "Poor", "sw": "Vibaya"},
    "rate.stars.3": {"en": "Fair", "sw": "Wastani"},
    "rate.stars.4": {"en": "Good", "sw": "Vizuri"},
    "rate.stars.5": {"en": "Very good", "sw": "Vizuri sana"},
    "rate.done": {
        "en": "Thank you for rating {provider} {stars} of 5.",
        "sw": "Asante kwa kumkadiria {provider} {stars} kati ya 5.",
    },
    # -- language and help
    "language.title": {"en": "Language / Lugha:", "sw": "Lugha / Language:"},
    "language.en": {"en": "English", "sw": "English"},
    "language.sw": {"en": "Kiswahili", "sw": "Kiswahili"},
    "help.text": {
        "en": "Your voucher pays a mentor to train you. Menu 2: find and book one. Menu 3: "
        "confirm each session. SMS HELP to {short} for more.",
        "sw": "Vocha yako inamlipa mwalimu akufundishe. Menyu 2: tafuta mwalimu. Menyu 3: "
        "thibitisha kila kipindi. Tuma HELP kwa {short}.",
    },
    # -- endings shown before we know who dials: both languages at once
    "unknown_phone": {
        "en": "Ujuzi: this number has no training voucher. To join, ask your programme office."
        "\nNambari hii haina vocha. Uliza ofisi ya mpango.",
    },
    "polite_end": {
        "en": "Sorry, the service is busy. Please dial again shortly.\nSamahani, huduma ina "
        "shughuli. Tafadhali piga tena baadaye.",
    },
    "wrong_service": {
        "en": "This is not an Ujuzi service code. Please check the number you dialled.\nHii si "
        "huduma ya Ujuzi. Angalia nambari uliyopiga.",
    },
    # -- domain errors, by DomainError.code
    "error.domain_error": {
        "en": "Sorry, that could not be done. Please dial again.",
        "sw": "Samahani, haikuwezekana. Tafadhali piga tena.",
    },
    "error.not_found": {
        "en": "Sorry, that was not found. Please dial again.",
        "sw": "Samahani, haikupatikana. Tafadhali piga tena.",
    },
    "error.invalid_input": {
        "en": "Sorry, that input is not valid. Please dial again.",
        "sw": "Samahani, ulichoandika si sahihi. Tafadhali piga tena.",
    },
    "error.illegal_transition": {
        "en": "That is already done or no longer possible.",
        "sw": "Hilo limeshafanyika au haliwezekani tena.",
    },
    "error.voucher_not_usable": {
        "en": "You have no voucher free to book with. See My vouchers.",
        "sw": "Huna vocha ya kutumia sasa. Angalia Vocha zangu.",
    },
    "error.voucher_expired": {"en": "This voucher has expired.", "sw": "Vocha hii imeisha muda."},
    "error.voucher_revoked": {
        "en": "This voucher was cancelled by the programme.",
        "sw": "Vocha hii imefutwa na mpango.",
    },
    "error.voucher_already_booked": {
        "en": "This voucher is already booked. Cancel that booking first to choose again.",
        "sw": "Vocha hii tayari ina mwalimu. Ghairi nafasi hiyo kwanza ili uchague tena.",
    },
    "error.voucher_fully_used": {
        "en": "All sessions of this voucher are used.",
        "sw": "Vipindi vyote vya vocha hii vimetumika.",
    },
    "error.provider_not_bookable": {
        "en": "This mentor cannot take your booking. Please dial again and choose another.",
        "sw": "Mwalimu huyu hawezi kukupokea. Tafadhali piga tena uchague mwingine.",
    },
    "error.provider_full": {
        "en": "Sorry, this mentor has just become full. Please dial again and choose another.",
        "sw": "Samahani, mwalimu huyu amejaa sasa hivi. Tafadhali piga tena uchague mwingine.",
    },
    "error.cannot_cancel": {
        "en": "This booking can no longer be cancelled: a session is already confirmed.",
        "sw": "Nafasi hii haiwezi kughairiwa tena: kipindi kimeshathibitishwa.",
    },
    "error.session_awaits_answer": {
        "en": "Your mentor recorded a session that waits for your answer. Confirm or dispute it "
        "first (menu 3), then cancel.",
        "sw": "Mwalimu amerekodi kipindi kinachosubiri jibu lako. Kithibitishe au kikatae kwanza "
        "(menyu 3), kisha ughairi.",
    },
    "error.booking_not_active": {
        "en": "This session's booking was cancelled, so it cannot be confirmed.",
        "sw": "Nafasi ya kipindi hiki ilighairiwa, hivyo hakiwezi kuthibitishwa.",
    },
    "error.booking_changed": {
        "en": "That booking was already cancelled or has ended, so nothing more was done. Dial "
        "again to see your bookings.",
        "sw": "Nafasi hiyo ilikuwa imeshaghairiwa au kuisha, hivyo hakuna zaidi kilichofanyika. "
        "Piga tena kuona nafasi zako.",
    },
    "error.changed_since_shown": {
        "en": "That changed after it was shown, so nothing was done. Please dial again to see "
        "it as it is now.",
        "sw": "Hilo limebadilika baada ya kuonyeshwa, hivyo hakuna kilichofanyika. Tafadhali "
        "piga tena uone hali ilivyo sasa.",
    },
    "error.session_already_answered": {
        "en": "This session was already answered, so nothing changed. See Confirm a session "
        "(menu 3).",
        "sw": "Kipindi hiki kilishajibiwa, hivyo hakuna kilichobadilika. Angalia Thibitisha "
        "kipindi (menyu 3).",
    },
    "error.already_booked_with_provider": {
        "en": "Your voucher is already booked with this mentor. See My vouchers.",
        "sw": "Tayari umemchagua mwalimu huyu kwa vocha yako. Angalia Vocha zangu.",
    },
    "error.session_lapsed": {
        "en": "The time to answer this session has passed. It was not confirmed.",
        "sw": "Muda wa kujibu kipindi hiki umepita. Hakijathibitishwa.",
    },
    "error.code_invalid": {
        "en": "That code is wrong or has expired.",
        "sw": "Nambari hiyo si sahihi au imeisha muda.",
    },
    "error.too_many_attempts": {
        "en": "Too many wrong tries. Please ask for a new code.",
        "sw": "Umekosea mara nyingi. Tafadhali omba nambari mpya.",
    },
    "error.forbidden": {"en": "Sorry, that is not allowed.", "sw": "Samahani, hilo haliruhusiwi."},
    "error.already_exists": {
        "en": "You already did that. Thank you.",
        "sw": "Ulishafanya hivyo. Asante.",
    },
    "error.budget_exceeded": {
        "en": "Sorry, the programme cannot do that now.",
        "sw": "Samahani, mpango hauwezi kufanya hivyo sasa.",
    },
}


def t(key: str, language: str, **params: Any) -> str:
    """The text for `key` in `language` (English when there is no translation), formatted."""
    texts = T[key]
    template = texts.get(language) or texts["en"]
    return template.format(**params) if params else template


def error_key(code: str) -> str:
    key = f"error.{code}"
    return key if key in T else "error.domain_error"
