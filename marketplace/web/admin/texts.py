"""Every word on the programme officers' pages, in English and Kiswahili (words shared with the
mentor pages and the sign-in page are in `web/i18n.py`)."""

from __future__ import annotations

from typing import Any

from ..i18n import SHARED, Texts, merge, translate

ADMIN: Texts = {
    # layout
    "nav_programmes": {"en": "Programmes", "sw": "Programu"},
    "nav_providers": {"en": "Providers", "sw": "Watoa mafunzo"},
    "nav_vouchers": {"en": "Vouchers", "sw": "Vocha"},
    "nav_review": {"en": "Review", "sw": "Ukaguzi"},
    "nav_payouts": {"en": "Payouts", "sw": "Malipo"},
    "nav_sms": {"en": "SMS", "sw": "SMS"},
    "nav_jobs": {"en": "Jobs", "sw": "Kazi"},
    # periodic jobs
    "jobs_title": {"en": "Periodic jobs", "sw": "Kazi za kila mara"},
    "jobs_intro": {
        "en": "The scheduler runs each job once per period, whichever server runs it.",
        "sw": "Kipanga ratiba huendesha kila kazi mara moja kwa kila kipindi, kwa seva yoyote.",
    },
    "th_job": {"en": "Job", "sw": "Kazi"},
    "th_every": {"en": "Every", "sw": "Kila"},
    "th_last_outcome": {"en": "Last outcome", "sw": "Matokeo ya mwisho"},
    "th_last_success": {"en": "Last success", "sw": "Mafanikio ya mwisho"},
    "th_runs": {
        "en": "Succeeded / failed / abandoned",
        "sw": "Zilifaulu / zilishindwa / ziliachwa",
    },
    "th_started": {"en": "Started", "sw": "Ilianza"},
    "th_seconds": {"en": "Seconds", "sw": "Sekunde"},
    "th_outcome": {"en": "Outcome", "sw": "Matokeo"},
    "th_counts": {"en": "Counts", "sw": "Idadi"},
    "th_instance": {"en": "Instance", "sw": "Seva"},
    "job_off": {"en": "off", "sw": "imezimwa"},
    "recent_runs": {"en": "Latest runs", "sw": "Mizunguko ya karibuni"},
    "all_jobs": {"en": "all jobs", "sw": "kazi zote"},
    "no_job_runs": {"en": "No run yet.", "sw": "Bado hakuna mzunguko."},
    "heartbeats": {"en": "Last heartbeat", "sw": "Dalili ya mwisho ya uhai"},
    "never": {"en": "never", "sw": "kamwe"},
    "outcome_running": {"en": "running", "sw": "inaendelea"},
    "outcome_succeeded": {"en": "succeeded", "sw": "imefaulu"},
    "outcome_failed": {"en": "failed", "sw": "imeshindwa"},
    "outcome_abandoned": {"en": "abandoned", "sw": "imeachwa"},
    "yes": {"en": "yes", "sw": "ndiyo"},
    "no": {"en": "no", "sw": "hapana"},
    "none": {"en": "none", "sw": "hakuna"},
    "choose": {"en": "Choose…", "sw": "Chagua…"},
    "name": {"en": "Name", "sw": "Jina"},
    "status": {"en": "Status", "sw": "Hali"},
    "region": {"en": "Region", "sw": "Mkoa"},
    "currency": {"en": "Currency", "sw": "Sarafu"},
    "programme": {"en": "Programme", "sw": "Programu"},
    "provider": {"en": "Provider", "sw": "Mtoa mafunzo"},
    "kind_craft_worker": {"en": "Craft worker", "sw": "Fundi"},
    "kind_institute": {"en": "Institute", "sw": "Taasisi"},
    "lang_en": {"en": "English", "sw": "Kiingereza"},
    "lang_sw": {"en": "Kiswahili", "sw": "Kiswahili"},
    "gender_female": {"en": "Female", "sw": "Mwanamke"},
    "gender_male": {"en": "Male", "sw": "Mwanamume"},
    "gender_other": {"en": "Other", "sw": "Nyingine"},
    "provider_pending": {"en": "Pending", "sw": "Inasubiri"},
    "provider_approved": {"en": "Approved", "sw": "Imeidhinishwa"},
    "provider_suspended": {"en": "Suspended", "sw": "Imesimamishwa"},
    "n_minutes": {"en": "{n} min", "sw": "dakika {n}"},
    "unpaid_item": {"en": "{n} sessions, {value}", "sw": "vipindi {n}, {value}"},
    "unpaid_intro": {
        "en": "Confirmed sessions not yet in a payout run:",
        "sw": "Vipindi vilivyothibitishwa ambavyo bado havijalipwa:",
    },
    "held_for_review": {
        "en": "{n} confirmed sessions with flags wait for your review before they can be paid.",
        "sw": "Vipindi {n} vilivyothibitishwa vyenye alama vinasubiri ukaguzi wako kabla ya kulipwa.",
    },
    # overview and the programme table
    "overview_title": {"en": "Officer overview", "sw": "Muhtasari wa afisa"},
    "overview": {"en": "Overview", "sw": "Muhtasari"},
    "providers_waiting": {
        "en": "{n} providers waiting for approval",
        "sw": "Watoa mafunzo {n} wanasubiri kuidhinishwa",
    },
    "n_approved": {"en": "{n} approved", "sw": "{n} wameidhinishwa"},
    "n_suspended": {"en": "{n} suspended", "sw": "{n} wamesimamishwa"},
    "sessions_to_review": {"en": "{n} sessions to review", "sw": "Vipindi {n} vya kukagua"},
    "disputed_or_flagged": {
        "en": "(disputed or flagged)",
        "sw": "(vilivyokataliwa au vilivyotiliwa shaka)",
    },
    "th_funder": {"en": "Funder", "sw": "Mfadhili"},
    "th_voucher": {"en": "Voucher", "sw": "Vocha"},
    "th_issued": {"en": "Issued", "sw": "Zilizotolewa"},
    "th_committed": {"en": "Committed", "sw": "Zilizotengwa"},
    "th_budget_left": {"en": "Budget left", "sw": "Bajeti iliyobaki"},
    "issue_vouchers": {"en": "Issue vouchers", "sw": "Toa vocha"},
    "no_programmes": {"en": "No programmes yet.", "sw": "Bado hakuna programu."},
    # programmes
    "new_programme": {"en": "New programme", "sw": "Programu mpya"},
    "funder": {"en": "Funder", "sw": "Mfadhili"},
    "voucher_value": {
        "en": "Voucher value (whole currency units)",
        "sw": "Thamani ya vocha (kwa sarafu kamili)",
    },
    "sessions_per_voucher": {"en": "Sessions per voucher", "sw": "Vipindi kwa kila vocha"},
    "co_payment": {
        "en": "Co-payment by the entrepreneur, %",
        "sw": "Mchango wa mjasiriamali, asilimia",
    },
    "validity_days": {"en": "Validity in days", "sw": "Muda wa matumizi (siku)"},
    "budget": {
        "en": "Total budget (whole currency units)",
        "sw": "Bajeti yote (kwa sarafu kamili)",
    },
    "confirmation_hours": {
        "en": "Hours the entrepreneur has to confirm a session",
        "sw": "Saa alizonazo mjasiriamali kuthibitisha kipindi",
    },
    "eligible_trades": {
        "en": "Eligible trades (none ticked: all)",
        "sw": "Kazi zinazokubaliwa (bila alama: zote)",
    },
    "eligible_regions": {
        "en": "Eligible regions (none ticked: all)",
        "sw": "Mikoa inayokubaliwa (bila alama: yote)",
    },
    "create_programme": {"en": "Create programme", "sw": "Unda programu"},
    "programme_created": {
        "en": "Programme “{name}” created.",
        "sw": "Programu “{name}” imeundwa.",
    },
    "bad_currency": {
        "en": "Currency is a three-letter code such as KES.",
        "sw": "Sarafu ni msimbo wa herufi tatu kama KES.",
    },
    "bad_voucher_value": {
        "en": "Voucher value must be an amount above zero.",
        "sw": "Thamani ya vocha iwe kiasi kilicho juu ya sifuri.",
    },
    "bad_budget": {
        "en": "Budget must be an amount above zero.",
        "sw": "Bajeti iwe kiasi kilicho juu ya sifuri.",
    },
    "need_programme_name": {"en": "Give the programme a name.", "sw": "Ipe programu jina."},
    "need_funder": {"en": "Name the funder.", "sw": "Taja mfadhili."},
    "whole_number": {
        "en": "Enter a whole number.",
        "sw": "Weka nambari kamili.",
    },
    "bad_sessions_per_voucher": {
        "en": "Sessions per voucher must be from 1 to 100.",
        "sw": "Vipindi kwa kila vocha viwe kati ya 1 na 100.",
    },
    "bad_co_payment": {
        "en": "Co-payment is a percentage from 0 to 100.",
        "sw": "Mchango ni asilimia kati ya 0 na 100.",
    },
    "bad_validity": {
        "en": "Validity must be at least one day.",
        "sw": "Muda wa matumizi uwe angalau siku moja.",
    },
    "bad_window": {
        "en": "The window must be at least one hour.",
        "sw": "Muda wa kuthibitisha uwe angalau saa moja.",
    },
    "programme_name_too_long": {
        "en": "The name must be at most {maximum} characters.",
        "sw": "Jina lisizidi herufi {maximum}.",
    },
    "funder_too_long": {
        "en": "The funder's name must be at most {maximum} characters.",
        "sw": "Jina la mfadhili lisizidi herufi {maximum}.",
    },
    "voucher_value_too_large": {
        "en": "Voucher value must be at most {maximum}.",
        "sw": "Thamani ya vocha isizidi {maximum}.",
    },
    "budget_too_large": {
        "en": "Budget must be at most {maximum}.",
        "sw": "Bajeti isizidi {maximum}.",
    },
    "validity_too_long": {
        "en": "Validity must be at most {maximum} days.",
        "sw": "Muda wa matumizi usizidi siku {maximum}.",
    },
    "window_too_long": {
        "en": "The window must be at most {maximum} hours.",
        "sw": "Muda wa kuthibitisha usizidi saa {maximum}.",
    },
    "programme_name_taken": {
        "en": "A programme with that name exists.",
        "sw": "Programu yenye jina hilo ipo tayari.",
    },
    "budget_below_voucher": {
        "en": "The budget must cover at least one voucher.",
        "sw": "Bajeti itoshe angalau vocha moja.",
    },
    # providers
    "providers_title": {"en": "Providers", "sw": "Watoa mafunzo"},
    "all": {"en": "All", "sw": "Wote"},
    "search_label": {"en": "Name, number or phone", "sw": "Jina, nambari au simu"},
    "show": {"en": "Show", "sw": "Onyesha"},
    "th_number_short": {"en": "No.", "sw": "Na."},
    "kind": {"en": "Kind", "sw": "Aina"},
    "trades": {"en": "Trades", "sw": "Kazi"},
    "region_town": {"en": "Region, town", "sw": "Mkoa, mji"},
    "trainees": {"en": "Trainees", "sw": "Wanafunzi"},
    "approve": {"en": "Approve", "sw": "Idhinisha"},
    "suspend": {"en": "Suspend", "sw": "Simamisha"},
    "no_providers_match": {
        "en": "No providers match.",
        "sw": "Hakuna mtoa mafunzo anayelingana.",
    },
    "register_provider_title": {"en": "Register a provider", "sw": "Sajili mtoa mafunzo"},
    "business_name": {"en": "Business name", "sw": "Jina la biashara"},
    "contact_person": {
        "en": "Contact person (signs in with this phone)",
        "sw": "Mtu wa kuwasiliana (huingia kwa simu hii)",
    },
    "trades_taught": {"en": "Trades taught", "sw": "Kazi zinazofundishwa"},
    "town": {"en": "Town", "sw": "Mji"},
    "capacity": {
        "en": "Capacity (most trainees at once)",
        "sw": "Uwezo (idadi ya juu ya wanafunzi kwa wakati mmoja)",
    },
    "payout_account_label": {
        "en": "Payout account (mobile money or bank)",
        "sw": "Akaunti ya malipo (pesa kwa simu au benki)",
    },
    "register_provider": {"en": "Register provider", "sw": "Sajili"},
    "need_business_name": {
        "en": "Give the provider's business name.",
        "sw": "Weka jina la biashara la mtoa mafunzo.",
    },
    "provider_registered": {
        "en": "{name} registered as provider {number}; approve it to open bookings.",
        "sw": "{name} amesajiliwa kama mtoa mafunzo {number}; mwidhinishe ili aanze kuchaguliwa.",
    },
    "provider_now_approved": {
        "en": "{name} ({number}) is now approved.",
        "sw": "{name} ({number}) ameidhinishwa.",
    },
    "provider_now_suspended": {
        "en": "{name} ({number}) is now suspended.",
        "sw": "{name} ({number}) amesimamishwa.",
    },
    "already_approved": {
        "en": "The provider is already approved.",
        "sw": "Mtoa mafunzo ameshaidhinishwa.",
    },
    "only_approved_suspended": {
        "en": "Only an approved provider can be suspended.",
        "sw": "Ni mtoa mafunzo aliyeidhinishwa tu anayeweza kusimamishwa.",
    },
    "need_trade": {"en": "Tick at least one trade.", "sw": "Chagua angalau kazi moja."},
    "bad_capacity": {"en": "Capacity must be at least 1.", "sw": "Uwezo uwe angalau 1."},
    # one provider
    "number": {"en": "Number", "sw": "Nambari"},
    "trainees_of": {"en": "{n} of {capacity}", "sw": "{n} kati ya {capacity}"},
    "rating": {"en": "Rating", "sw": "Ukadiriaji"},
    "payout_account": {"en": "Payout account", "sw": "Akaunti ya malipo"},
    "people_title": {"en": "People who sign in for it", "sw": "Watu wanaoingia kwa niaba yake"},
    "active": {"en": "Active", "sw": "Hai"},
    "add_person": {"en": "Add a person", "sw": "Ongeza mtu"},
    "phone_signs_in": {
        "en": "Phone (signs in with a code by SMS)",
        "sw": "Simu (huingia kwa nambari ya SMS)",
    },
    "add": {"en": "Add", "sw": "Ongeza"},
    "need_person_name": {"en": "Give the person's name.", "sw": "Weka jina la mtu."},
    "staff_added": {
        "en": "{name} can now sign in on the mentor page with {phone}.",
        "sw": "{name} sasa anaweza kuingia kwenye ukurasa wa mwalimu kwa {phone}.",
    },
    "bad_phone_number": {
        "en": "Enter a valid phone number, like 0712 345678.",
        "sw": "Weka nambari sahihi ya simu, kama 0712 345678.",
    },
    "phone_taken": {
        "en": "That phone number already signs in for a provider.",
        "sw": "Nambari hiyo ya simu tayari inatumika kuingia kwa mtoa mafunzo.",
    },
    # vouchers
    "vouchers_title": {"en": "Vouchers", "sw": "Vocha"},
    "upload_report": {"en": "Upload report", "sw": "Ripoti ya faili"},
    "report_issued": {"en": "vouchers issued", "sw": "vocha zimetolewa"},
    "report_repeats": {
        "en": "rows already issued before (skipped)",
        "sw": "safu zilizotolewa awali (zimerukwa)",
    },
    "report_errors": {
        "en": "rows with errors (nothing issued for them)",
        "sw": "safu zenye makosa (hazikutolewa)",
    },
    "th_line": {"en": "Line", "sw": "Mstari"},
    "th_column": {"en": "Column", "sw": "Safu wima"},
    "th_reason": {"en": "Reason", "sw": "Sababu"},
    "fix_rows": {
        "en": "Correct these rows and upload the file again: rows already issued are "
        "recognised and skipped.",
        "sw": "Sahihisha safu hizi kisha upakie faili tena: safu zilizokwisha tolewa "
        "zinatambuliwa na kurukwa.",
    },
    "lines_already_issued": {"en": "Lines already issued:", "sw": "Mistari iliyokwisha tolewa:"},
    "upload_csv": {"en": "Upload a CSV", "sw": "Pakia faili la CSV"},
    "csv_columns": {"en": "Columns:", "sw": "Safu wima:"},
    "csv_note": {
        "en": "(language optional; an optional <code>ref</code> column is your own row "
        "reference). One voucher per row; every entrepreneur gets an SMS.",
        "sw": "(lugha si lazima; safu wima ya hiari <code>ref</code> ni kumbukumbu yako ya "
        "safu). Vocha moja kwa kila safu; kila mjasiriamali anapata SMS.",
    },
    "csv_file": {"en": "CSV file", "sw": "Faili la CSV"},
    "upload_and_issue": {"en": "Upload and issue", "sw": "Pakia na utoe vocha"},
    "issue_one": {"en": "Issue one voucher", "sw": "Toa vocha moja"},
    "full_name": {"en": "Full name", "sw": "Jina kamili"},
    "gender": {"en": "Gender", "sw": "Jinsia"},
    "birth_year": {"en": "Year of birth", "sw": "Mwaka wa kuzaliwa"},
    "sms_language": {"en": "Language for SMS", "sw": "Lugha ya SMS"},
    "issue_voucher": {"en": "Issue voucher", "sw": "Toa vocha"},
    "bad_birth_year": {
        "en": "Birth year must be a number like 1990.",
        "sw": "Mwaka wa kuzaliwa uwe nambari kama 1990.",
    },
    "implausible_birth_year": {
        "en": "Birth year is not plausible.",
        "sw": "Mwaka huo wa kuzaliwa hauwezekani.",
    },
    "need_full_name": {
        "en": "Enter the full name (up to 120 characters).",
        "sw": "Weka jina kamili (herufi 120 au chache).",
    },
    "not_covered": {
        "en": "This programme does not cover that trade or region.",
        "sw": "Programu hii haihusu kazi au mkoa huo.",
    },
    "budget_exceeded": {
        "en": "The programme's budget cannot cover this voucher.",
        "sw": "Bajeti ya programu haitoshi kwa vocha hii.",
    },
    "choose_programme": {"en": "Choose a programme.", "sw": "Chagua programu."},
    "choose_file": {"en": "Choose a CSV file to upload.", "sw": "Chagua faili la CSV la kupakia."},
    "file_too_large": {
        "en": "The file is larger than 16 MB; split it.",
        "sw": "Faili ni kubwa kuliko MB 16; ligawe.",
    },
    "voucher_issued": {
        "en": "Voucher {code} issued to {name}; the SMS is on its way.",
        "sw": "Vocha {code} imetolewa kwa {name}; SMS inatumwa.",
    },
    # review
    "review_title": {"en": "Review queue", "sw": "Foleni ya ukaguzi"},
    "review_intro": {
        "en": "Sessions the entrepreneur disputed, and sessions the fraud signals flagged:",
        "sw": "Vipindi ambavyo mjasiriamali alikataa, na vipindi vilivyotiliwa shaka:",
    },
    "flag_shared_phone": {"en": "Shared phone", "sw": "Simu moja"},
    "flag_shared_phone_means": {
        "en": "trainee and mentor use one phone",
        "sw": "mwanafunzi na mwalimu wanatumia simu moja",
    },
    "flag_too_many_in_a_day": {"en": "Too many in a day", "sw": "Vingi mno kwa siku"},
    "flag_too_many_in_a_day_means": {
        "en": "more sessions in one day than one mentor can give",
        "sw": "vipindi vingi kwa siku moja kuliko mwalimu mmoja anavyoweza",
    },
    "flag_burst_confirmation": {"en": "Confirmed at once", "sw": "Imethibitishwa papo hapo"},
    "flag_burst_confirmation_means": {
        "en": "confirmed within a minute of recording",
        "sw": "imethibitishwa ndani ya dakika moja baada ya kuandikwa",
    },
    "flag_over_capacity": {"en": "Over capacity", "sw": "Zaidi ya uwezo"},
    "flag_over_capacity_means": {
        "en": "the provider has more trainees than its capacity",
        "sw": "mtoa mafunzo ana wanafunzi zaidi ya uwezo wake",
    },
    "session_ref": {"en": "Session {ref}", "sw": "Kipindi {ref}"},
    "session_with": {
        "en": "{provider} ({number}) with {person}",
        "sw": "{provider} ({number}) na {person}",
    },
    "answered_by": {"en": "answered by {via}", "sw": "kimejibiwa kwa {via}"},
    "via_ussd": {"en": "USSD", "sw": "USSD"},
    "via_sms": {"en": "SMS", "sw": "SMS"},
    "via_web": {"en": "code on the mentor page", "sw": "nambari kwenye ukurasa wa mwalimu"},
    "via_api": {"en": "API", "sw": "API"},
    "via_cli": {"en": "command line", "sw": "amri ya mfumo"},
    "decision": {"en": "Decision", "sw": "Uamuzi"},
    "uphold": {"en": "Uphold the dispute (not paid)", "sw": "Kubali malalamiko (hakilipwi)"},
    "overturn": {
        "en": "Overturn: it happened, pay it",
        "sw": "Kataa malalamiko: kilifanyika, kilipwe",
    },
    "clear": {"en": "Flags checked: clear them", "sw": "Shaka zimekaguliwa: ziondoe"},
    "note": {"en": "Note", "sw": "Maelezo"},
    "decide": {"en": "Decide", "sw": "Amua"},
    "nothing_to_review": {"en": "Nothing to review.", "sw": "Hakuna cha kukagua."},
    "decided_uphold": {
        "en": "Session {ref}: dispute upheld, not paid.",
        "sw": "Kipindi {ref}: malalamiko yamekubaliwa, hakilipwi.",
    },
    "decided_overturn": {
        "en": "Session {ref}: dispute overturned, it will be paid.",
        "sw": "Kipindi {ref}: malalamiko yamekataliwa, kitalipwa.",
    },
    "decided_clear": {
        "en": "Session {ref}: flags cleared.",
        "sw": "Kipindi {ref}: shaka zimeondolewa.",
    },
    "already_decided": {
        "en": "This session was already decided.",
        "sw": "Kipindi hiki kimeshaamuliwa.",
    },
    "bad_decision": {"en": "Choose a decision.", "sw": "Chagua uamuzi."},
    "need_note": {"en": "Write a note on the decision.", "sw": "Andika maelezo ya uamuzi."},
    "voucher_full": {
        "en": "The voucher has no session left to pay.",
        "sw": "Vocha haina kipindi kilichobaki cha kulipwa.",
    },
    "booking_switched": {
        "en": "The trainee cancelled that booking and chose another mentor: the session cannot be paid.",
        "sw": "Mwanafunzi alighairi uhifadhi huo na kuchagua mshauri mwingine: kipindi hakiwezi kulipwa.",
    },
    # payouts
    "payouts_title": {"en": "Payouts", "sw": "Malipo"},
    "run_payout": {"en": "Run a payout", "sw": "Fanya malipo"},
    "period_end": {
        "en": "Sessions confirmed up to and including (YYYY-MM-DD)",
        "sw": "Vipindi vilivyothibitishwa hadi na pamoja na (YYYY-MM-DD)",
    },
    "make_statements": {"en": "Make statements", "sw": "Tengeneza taarifa"},
    "runs": {"en": "Runs", "sw": "Malipo yaliyofanywa"},
    "th_run": {"en": "Run", "sw": "Namba"},
    "th_up_to": {"en": "Up to", "sw": "Hadi"},
    "th_total": {"en": "Total", "sw": "Jumla"},
    "th_statements": {"en": "Statements", "sw": "Taarifa"},
    "th_paid": {"en": "Paid", "sw": "Zimelipwa"},
    "th_by": {"en": "By", "sw": "Na"},
    "no_runs": {"en": "No payout runs yet.", "sw": "Bado hakuna malipo yaliyofanywa."},
    "bad_period_end": {
        "en": "Give the last day of the period as YYYY-MM-DD.",
        "sw": "Weka siku ya mwisho ya kipindi kama YYYY-MM-DD.",
    },
    "future_period_end": {
        "en": "The period cannot end in the future.",
        "sw": "Kipindi hakiwezi kuishia siku zijazo.",
    },
    "nothing_to_pay": {
        "en": "Nothing to pay: no confirmed, unpaid sessions in that period.",
        "sw": "Hakuna cha kulipa: hakuna vipindi vilivyothibitishwa ambavyo havijalipwa.",
    },
    "payout_run_made": {"en": "Payout run {id}: {total}.", "sw": "Malipo namba {id}: {total}."},
    "payout_run_title": {"en": "Payout run {id}", "sw": "Malipo namba {id}"},
    "run_summary": {
        "en": "{total} for sessions confirmed from {start} to before {end}",
        "sw": "{total} kwa vipindi vilivyothibitishwa kuanzia {start} hadi kabla ya {end}",
    },
    "download_csv": {"en": "Download CSV", "sw": "Pakua CSV"},
    "account": {"en": "Account", "sw": "Akaunti"},
    "payment_reference": {"en": "Payment reference", "sw": "Kumbukumbu ya malipo"},
    "mark_paid": {"en": "Mark paid", "sw": "Imelipwa"},
    "mark_all_title": {
        "en": "Mark every pending statement paid",
        "sw": "Weka taarifa zote zinazosubiri kuwa zimelipwa",
    },
    "bulk_reference": {"en": "Bulk payment reference", "sw": "Kumbukumbu ya malipo ya pamoja"},
    "mark_all_paid": {"en": "Mark all paid", "sw": "Zote zimelipwa"},
    "mark_all_note": {
        "en": "Each statement gets the reference followed by its number; each provider is "
        "told by SMS.",
        "sw": "Kila taarifa inapata kumbukumbu hiyo ikifuatiwa na nambari yake; kila mtoa "
        "mafunzo anaarifiwa kwa SMS.",
    },
    "marked_paid": {
        "en": "{name} marked paid, reference {reference}.",
        "sw": "{name} amelipwa, kumbukumbu {reference}.",
    },
    "already_paid": {
        "en": "This statement is already marked paid.",
        "sw": "Taarifa hii imeshawekwa kuwa imelipwa.",
    },
    "need_payment_reference": {
        "en": "Give the payment's reference.",
        "sw": "Weka kumbukumbu ya malipo.",
    },
    "need_bulk_reference": {
        "en": "Give the bulk payment's reference.",
        "sw": "Weka kumbukumbu ya malipo ya pamoja.",
    },
    "statements_marked": {
        "en": "{n} statements marked paid.",
        "sw": "Taarifa {n} zimewekwa kuwa zimelipwa.",
    },
    # the SMS outbox
    "sms_title": {"en": "Text messages", "sw": "Ujumbe mfupi"},
    "sms_intro": {
        "en": "Every SMS the service wrote, by state and kind. Messages that failed, were parked or "
        "whose outcome is unknown can be sent again with the same text.",
        "sw": "Kila SMS ambayo huduma iliandika, kwa hali na aina. Ujumbe ulioshindwa, uliozuiwa "
        "au ambao matokeo yake hayajulikani unaweza kutumwa tena kwa maneno yale yale.",
    },
    "sms_state_pending": {"en": "Waiting to go", "sw": "Unasubiri kutumwa"},
    "sms_state_sent": {"en": "Sent", "sw": "Umetumwa"},
    "sms_state_delivered": {"en": "Delivered", "sw": "Umefika"},
    "sms_state_failed": {"en": "Failed", "sw": "Umeshindwa"},
    "sms_state_parked": {
        "en": "Parked (account problem)",
        "sw": "Umezuiwa (tatizo la akaunti)",
    },
    "sms_state_unknown": {"en": "Outcome unknown", "sw": "Matokeo hayajulikani"},
    "sms_state": {"en": "State", "sw": "Hali ya ujumbe"},
    "sms_kind": {"en": "Kind of message", "sw": "Aina ya ujumbe"},
    "sms_total": {"en": "Total", "sw": "Jumla"},
    "sms_oldest_waiting": {
        "en": "The oldest message waiting to go was written {age} ago.",
        "sw": "Ujumbe wa zamani zaidi unaosubiri kutumwa uliandikwa {age} zilizopita.",
    },
    "age_seconds": {"en": "{n} seconds", "sw": "sekunde {n}"},
    "age_minutes": {"en": "{n} minutes", "sw": "dakika {n}"},
    "age_hours": {"en": "{n} hours", "sw": "saa {n}"},
    "age_days": {"en": "{n} days", "sw": "siku {n}"},
    "sms_written": {"en": "Written", "sw": "Uliandikwa"},
    "sms_attempts": {"en": "Attempts", "sw": "Majaribio"},
    "sms_report": {"en": "Delivery report", "sw": "Taarifa ya kufika"},
    "sms_last_error": {"en": "Last error", "sw": "Hitilafu ya mwisho"},
    "sms_none_match": {"en": "No messages match.", "sw": "Hakuna ujumbe unaolingana."},
    "sms_shown": {
        "en": "{total} messages, page {page} of {pages}.",
        "sw": "Ujumbe {total}, ukurasa {page} kati ya {pages}.",
    },
    "sms_newer": {"en": "Newer", "sw": "Mipya zaidi"},
    "sms_older": {"en": "Older", "sw": "Ya zamani zaidi"},
    "sms_choose": {"en": "Choose", "sw": "Chagua"},
    "sms_resend_chosen": {"en": "Send the chosen again", "sw": "Tuma tena iliyochaguliwa"},
    "sms_resend_filter": {
        "en": "Send again every message of this filter",
        "sw": "Tuma tena kila ujumbe wa kichujio hiki",
    },
    "sms_force": {
        "en": "Also messages already sent or delivered",
        "sw": "Pamoja na ujumbe uliokwisha kutumwa au kufika",
    },
    "sms_resend_note": {
        "en": "Messages waiting to go are left as they are. Each message sent again is recorded "
        "in the audit log.",
        "sw": "Ujumbe unaosubiri kutumwa unaachwa ulivyo. Kila ujumbe unaotumwa tena "
        "unaandikwa kwenye kumbukumbu ya ukaguzi.",
    },
    "sms_requeued": {
        "en": "{n} messages will be sent again.",
        "sw": "Ujumbe {n} utatumwa tena.",
    },
    "sms_went_out_left": {
        "en": "{n} messages already sent or delivered were not sent again: tick the box to send "
        "them too.",
        "sw": "Ujumbe {n} uliokwisha kutumwa au kufika haukutumwa tena: weka alama kwenye "
        "kisanduku ili nao utumwe.",
    },
    "sms_queued_left": {
        "en": "{n} messages were already waiting to go.",
        "sw": "Ujumbe {n} ulikuwa tayari unasubiri kutumwa.",
    },
    "sms_choose_some": {
        "en": "Choose messages to send again, or a state or kind to send again.",
        "sw": "Chagua ujumbe wa kutuma tena, au hali au aina ya kutuma tena.",
    },
    # service answers without a wording of their own here
    "already_exists": {"en": "That already exists.", "sw": "Hiyo ipo tayari."},
    "refused": {"en": "{detail}", "sw": "Imekataliwa: {detail}"},
}

TEXTS = merge(SHARED, ADMIN)


def t(key: str, language: str, **params: Any) -> str:
    return translate(TEXTS, key, language, **params)
