"""The officers' pages and the staff sign-in page in English and Kiswahili, switched like the
mentor pages."""

from __future__ import annotations

import html
import re
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import (
    Channel,
    FailureClass,
    Gender,
    Language,
    OutboxStatus,
    PaymentState,
    Payout,
    PayoutStatus,
    ProviderKind,
    ProviderStatus,
    SessionStatus,
    TrainingSession,
)
from marketplace.extensions import db
from marketplace.messages import catalogue, pages
from marketplace.services import sessions
from marketplace.web import admin
from tests.builders import Builders
from tests.outbox_rows import message
from tests.web.conftest import Web

TEMPLATES = Path(admin.__file__).resolve().parents[2] / "templates"

# Words of the English pages as they were before they had a Kiswahili side: none may be left on a
# page shown in Kiswahili.
KEY_PHRASES = [
    "Sign out",
    "Programmes",
    "Providers",
    "Vouchers",
    "Payouts",
    "Officer overview",
    "waiting for approval",
    "sessions to review",
    "disputed or flagged",
    "Confirmed sessions not yet",
    "Budget left",
    "Issue vouchers",
    "No programmes yet",
    "New programme",
    "Voucher value",
    "Sessions per voucher",
    "Co-payment",
    "Validity in days",
    "Total budget",
    "Hours the entrepreneur",
    "Eligible trades",
    "Eligible regions",
    "Create programme",
    "Name, number or phone",
    "Craft worker",
    "Institute",
    "Approve",
    "Suspend",
    "Register a provider",
    "Business name",
    "Contact person",
    "Trades taught",
    "Capacity",
    "Payout account",
    "Region, town",
    "People who sign in",
    "Add a person",
    "signs in with a code",
    "Upload a CSV",
    "Upload and issue",
    "Issue one voucher",
    "Full name",
    "Year of birth",
    "Language for SMS",
    "Female",
    "Tailoring",
    "Review queue",
    "fraud signals",
    "Uphold the dispute",
    "Overturn",
    "Decision",
    "Nothing to review",
    "Run a payout",
    "Make statements",
    "Download CSV",
    "Mark paid",
    "Mark all paid",
    "Bulk payment reference",
    "each provider is told by SMS",
    "Statements",
    "Payout run",
    "Disputed",
    "pending",
    "approved",
    "Staff sign-in",
    "E-mail",
    "Password",
    "do not match an account",
    "Too many failed sign-ins",
    "Language:",
]


def _visible(response: object) -> str:
    """The words a person sees: tags (and their attributes) removed."""
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _english_fragments() -> set[str]:
    """Every English phrase of two words or more of the officers' and sign-in texts, cut at the
    {placeholders}, that the Kiswahili side does not also use."""
    fragments = set()
    english, kiswahili = catalogue.own_texts("en"), catalogue.own_texts("sw")
    for key, en in english.items():
        sw = kiswahili[key]
        if key.split(".")[0] not in (pages.SHARED, "admin", "signin") or en == sw:
            continue
        plain = re.sub(r"<[^>]+>", "", en)
        for part in re.split(r"\{[^}]*\}", plain):
            part = " ".join(part.split()).strip(" .,:;()")
            if len(part.split()) >= 2 and part not in sw:
                fragments.add(part)
    return fragments


def _leftovers(page: str) -> list[str]:
    found = [p for p in KEY_PHRASES if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", page)]
    return found + [p for p in sorted(_english_fragments()) if p in page]


def _placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_both_languages_define_the_same_keys_with_the_same_placeholders() -> None:
    english, kiswahili = catalogue.own_texts("en"), catalogue.own_texts("sw")
    keys = [k for k in english if k.split(".")[0] in (pages.SHARED, "signin", "admin", "mentor")]
    assert len(keys) > 300
    for key in keys:
        assert english[key].strip() and kiswahili.get(key, "").strip(), key
        assert _placeholders(english[key]) == _placeholders(kiswahili[key]), key


def test_a_word_defined_twice_is_refused() -> None:
    try:
        catalogue.Scope(pages.SHARED, "admin", pages.SHARED)
    except ValueError as exc:
        assert "sign_out" in str(exc)
    else:
        raise AssertionError("a duplicate key was accepted")


def test_every_word_the_staff_templates_ask_for_is_defined() -> None:
    used: dict[str, set[str]] = {"admin": set(), "auth": set()}
    for folder in used:
        for template in (TEMPLATES / folder).glob("*.html"):
            used[folder] |= set(re.findall(r"_\('([a-z0-9_]+)'\s*[,)]", template.read_text()))
    assert {key for key in used["admin"] if key not in pages.admin} == set()
    assert {key for key in used["auth"] if key not in pages.signin} == set()
    # Words picked by a value: every value has its words.
    by_value = {
        "provider_": list(ProviderStatus),
        "kind_": list(ProviderKind),
        "gender_": list(Gender),
        "lang_": list(Language),
        "status_": list(SessionStatus),
        "payout_": list(PayoutStatus),
        "via_": list(Channel),
        "flag_": ["shared_phone", "too_many_in_a_day", "burst_confirmation", "over_capacity"],
        "decided_": ["uphold", "overturn", "clear"],
        "provider_now_": [ProviderStatus.APPROVED, ProviderStatus.SUSPENDED],
        "sms_state_": list(OutboxStatus),
        "payment_": list(PaymentState),
        "failure_": list(FailureClass),
    }
    missing = [p + v for p, values in by_value.items() for v in values]
    assert [k for k in missing if k not in pages.admin] == []
    assert {key for key in admin._PROBLEMS.values() if key not in pages.admin} == set()


def _officers_world(build: Builders) -> dict[str, int]:
    """A programme, a pending institute, an approved craft worker with a trainee, a disputed
    and a flagged session, and a confirmed one ready to be paid."""
    programme = build.programme()
    pending = build.provider(approved=False, kind="institute", name="Chuo cha Ufundi")
    provider = build.provider(name="Mama Njeri Tailors")
    booking = build.booking(build.voucher(programme), provider=provider)
    build.confirmed_session(booking, now=datetime.now(UTC) - timedelta(hours=1))
    disputed = build.recorded_session(booking, topic="Kukata vitambaa")
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    flagged = build.recorded_session(booking, topic="Kushona mikono")
    db.session.execute(
        sa.update(TrainingSession)
        .where(TrainingSession.id == flagged.id)
        .values(flags=["shared_phone", "burst_confirmation"], held=True)
    )
    db.session.commit()
    message("failed")
    message("parked")
    return {"programme": programme.id, "pending": pending.id, "provider": provider.id}


def _switch_to_kiswahili(web: Web, from_page: str) -> None:
    answer = web.post("/language", {"lang": "sw", "back": from_page}, token_from=from_page)
    assert answer.status_code == 302 and answer.location == from_page


def test_every_officer_page_reads_in_kiswahili_with_no_english_left(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    world = _officers_world(build)
    officer = build.staff_user("admin")
    assert web.staff_signin(officer.email).location == "/admin"
    _switch_to_kiswahili(web, "/admin")

    made = web.post(
        "/admin/payouts",
        {"currency": "KES", "period_end": datetime.now(UTC).date().isoformat()},
    )
    run_page = made.location
    flashed = _visible(client.get(run_page))
    assert "Malipo namba" in flashed and "Pakua CSV" in flashed
    payout = db.session.scalars(sa.select(Payout)).one()
    web.post(f"{run_page}/paid/{payout.id}", {"reference": "MPESA-77"}, token_from=run_page)

    pages = {
        "/admin": "Mtoa mafunzo 1 anasubiri kuidhinishwa",
        "/admin/programmes": "Unda programu",
        "/admin/providers": "Sajili mtoa mafunzo",
        "/admin/providers?status=pending": "Taasisi",
        f"/admin/providers/{world['provider']}": "Watu wanaoingia kwa niaba yake",
        f"/admin/providers/{world['pending']}": "Inasubiri",
        "/admin/vouchers": "Toa vocha moja",
        "/admin/review": "Foleni ya ukaguzi",
        "/admin/payouts": "Fanya malipo",
        "/admin/payments": "Malipo kwa hali",
        "/admin/sms": "Umezuiwa (tatizo la akaunti)",
        "/admin/sms?state=failed": "Tuma tena kila ujumbe wa kichujio hiki",
        run_page: "Imelipwa",
    }
    for path, words in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'lang="sw"' in response.get_data(as_text=True), path
        page = _visible(response)
        assert words in page, path
        assert _leftovers(page) == [], path


def test_officers_are_told_what_is_wrong_in_kiswahili(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    officer = build.staff_user("admin")
    web.staff_signin(officer.email)
    _switch_to_kiswahili(web, "/admin/programmes")
    bad_programme = web.post(
        "/admin/programmes", {"name": "", "currency": "K1", "sessions_per_voucher": "many"}
    )
    assert bad_programme.status_code == 422
    page = _visible(bad_programme)
    assert "Sarafu ni msimbo wa herufi tatu kama KES." in page
    assert "Weka nambari kamili." in page
    assert _leftovers(page) == []

    programme = build.programme()
    bad_person = web.post(
        "/admin/vouchers",
        {
            "programme_id": str(programme.id),
            "phone": "0700",
            "name": "Asha",
            "gender": "female",
            "birth_year": "1990",
            "trade": "tailoring",
            "region": "nairobi",
            "language": "sw",
        },
    )
    assert bad_person.status_code == 422
    page = _visible(bad_person)
    assert "Weka nambari sahihi ya simu" in page and _leftovers(page) == []


def test_the_staff_sign_in_page_speaks_kiswahili_and_keeps_the_choice_after_sign_in(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    officer = build.staff_user("admin")
    _switch_to_kiswahili(web, "/signin")
    page = _visible(client.get("/signin"))
    assert "Wafanyakazi: kuingia" in page and "Nenosiri" in page
    assert _leftovers(page) == []

    wrong = web.post("/signin", {"email": officer.email, "password": "si neno lenyewe"})
    assert wrong.status_code == 401
    assert "Barua pepe na nenosiri hazilingani" in _visible(wrong)
    assert _leftovers(_visible(wrong)) == []

    assert web.staff_signin(officer.email).location == "/admin"
    assert "Muhtasari" in _visible(client.get("/admin"))
    web.post("/signout", token_from="/admin")
    assert 'lang="sw"' in client.get("/signin").get_data(as_text=True)


def test_the_lockout_message_is_in_kiswahili_too(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    officer = build.staff_user("admin")
    _switch_to_kiswahili(web, "/signin")
    for _ in range(5):
        answer = web.post("/signin", {"email": officer.email, "password": "si neno lenyewe"})
    assert answer.status_code == 429
    page = _visible(answer)
    assert "Subiri dakika 15 kisha ujaribu tena." in page and _leftovers(page) == []


def test_the_english_pages_stay_english(web: Web, client: FlaskClient, build: Builders) -> None:
    officer = build.staff_user("admin")
    web.staff_signin(officer.email)
    page = _visible(client.get("/admin"))
    assert "providers waiting for approval" in page and "Sign out" in page


def test_the_language_switch_only_returns_to_a_page_of_this_site(
    web: Web, client: FlaskClient
) -> None:
    for elsewhere in ("//evil.example/admin", "https://evil.example/", "/\\evil.example"):
        answer = web.post("/language", {"lang": "sw", "back": elsewhere}, token_from="/signin")
        assert answer.location == "/signin", elsewhere
    refused = web.post("/language", {"lang": "fr", "back": "/signin"}, token_from="/signin")
    assert refused.status_code == 400
