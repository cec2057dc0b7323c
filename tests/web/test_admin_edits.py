"""Officers change a running programme and a provider: each an audited step, within the bounds
of creation; the budget only goes up; a provider's capacity never below its trainees booked."""

from __future__ import annotations

import html

import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain import limits
from marketplace.domain.models import AuditEvent, Programme, Provider, ProviderStaff
from marketplace.extensions import db
from marketplace.messages.pages import admin as words
from marketplace.services import issuance, providers
from tests.builders import Builders
from tests.web.conftest import Web


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def _officer(web: Web, build: Builders) -> None:
    assert web.staff_signin(build.staff_user("admin").email).location == "/admin"


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _programme_form(**overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "budget": "2,000,000",
        "validity_days": "120",
        "confirmation_window_hours": "48",
        "trades": ["tailoring", "metalwork"],
        "regions": ["nairobi"],
        "payout_schedule": "weekly",
        "co_payment_percent": "20",
        "co_payment_required": "1",
    }
    form.update(overrides)
    return form


def test_an_officer_changes_a_programme_in_one_audited_step(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    programme = build.programme(budget_minor=100_000_000, validity_days=90)
    _officer(web, build)
    page = f"/admin/programmes/{programme.id}/edit"
    shown = _text(client.get(page))
    assert 'value="1000000"' in shown and 'value="90"' in shown

    answer = web.post(page, _programme_form())

    assert answer.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Programme, programme.id)
    assert changed is not None
    assert (changed.budget_minor, changed.validity_days, changed.confirmation_window_hours) == (
        200_000_000,
        120,
        48,
    )
    assert changed.eligible_trades == ["metalwork", "tailoring"]
    assert changed.eligible_regions == ["nairobi"]
    assert changed.payout_schedule == "weekly"
    assert (changed.co_payment_percent, changed.co_payment_required) == (20, True)
    [event] = _events("programme.changed")
    assert event.before == {
        "budget_minor": 100_000_000,
        "validity_days": 90,
        "confirmation_window_hours": 72,
        "eligible_trades": [],
        "eligible_regions": [],
        "payout_schedule": "daily",
        "co_payment_percent": 10,
        "co_payment_required": False,
    }
    assert event.after is not None and event.after["budget_minor"] == 200_000_000
    assert words("programme_changed", "en", name=programme.name) in _text(
        client.get("/admin/programmes")
    )


def test_a_voucher_issued_after_the_change_lasts_the_new_validity_and_meets_the_new_rules(
    web: Web, build: Builders
) -> None:
    programme = build.programme(validity_days=90)
    _officer(web, build)
    web.post(f"/admin/programmes/{programme.id}/edit", _programme_form(validity_days="30"))

    voucher = issuance.issue_voucher(programme.id, build.person(), "o")

    assert (voucher.expires_at - voucher.issued_at).days == 30
    refused = issuance.import_vouchers(
        programme.id,
        "phone,name,gender,birth_year,trade,region\n0722900001,A B,female,1990,tailoring,mombasa\n",
        "o",
    )
    assert [e.code for e in refused.errors] == ["not_eligible"]


def test_the_budget_never_goes_down(web: Web, client: FlaskClient, build: Builders) -> None:
    programme = build.programme(budget_minor=100_000_000)
    _officer(web, build)

    answer = web.post(f"/admin/programmes/{programme.id}/edit", _programme_form(budget="999,999"))

    assert answer.status_code == 422
    assert words("budget_only_up", "en", amount="KES 1,000,000") in _text(answer)
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).budget_minor == 100_000_000  # type: ignore[union-attr]
    assert _events("programme.changed") == []


def test_a_programme_change_is_held_to_the_bounds_of_creation(web: Web, build: Builders) -> None:
    programme = build.programme()
    _officer(web, build)
    page = f"/admin/programmes/{programme.id}/edit"
    too_long = str(limits.VALIDITY_DAYS.high + 1)

    long = web.post(page, _programme_form(validity_days=too_long))
    zero = web.post(page, _programme_form(confirmation_window_hours="0"))
    huge = web.post(page, _programme_form(budget=str(limits.BUDGET_MINOR.high)))
    words_ = web.post(page, _programme_form(budget="a lot"))
    monthly = web.post(page, _programme_form(payout_schedule="monthly"))
    share = web.post(page, _programme_form(co_payment_percent="101"))

    assert [r.status_code for r in (long, zero, huge, words_, monthly, share)] == [422] * 6
    assert words("bad_co_payment", "en") in _text(share)
    assert words("bad_payout_schedule", "en") in _text(monthly)
    assert words("validity_too_long", "en", maximum=limits.VALIDITY_DAYS.high) in _text(long)
    assert words("bad_window", "en") in _text(zero)
    assert "budget" in _text(huge) and words("bad_budget", "en") in _text(words_)
    assert _events("programme.changed") == []


def test_an_unknown_programme_answers_404(web: Web, client: FlaskClient, build: Builders) -> None:
    _officer(web, build)
    assert client.get("/admin/programmes/999999/edit").status_code == 404


def _provider_form(provider: Provider, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "phone": provider.phone,
        "trades": provider.trade_codes,
        "region": provider.region_code,
        "town": provider.town,
        "capacity": str(provider.capacity),
    }
    form.update(overrides)
    return form


def test_an_officer_changes_a_provider_and_its_mentor_signs_in_with_the_new_phone(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider(capacity=5, town="Gikomba")
    old_phone = provider.phone
    _officer(web, build)
    page = f"/admin/providers/{provider.id}/edit"

    answer = web.post(
        page,
        _provider_form(
            provider,
            phone="0733 444 555",
            trades=["tailoring", "metalwork"],
            town="Kariobangi",
            capacity="12",
        ),
    )

    assert answer.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Provider, provider.id)
    assert changed is not None
    assert (changed.phone, changed.town, changed.capacity) == ("+254733444555", "Kariobangi", 12)
    assert changed.trade_codes == ["metalwork", "tailoring"]
    assert [s.phone for s in changed.staff] == ["+254733444555"]
    [event] = _events("provider.changed")
    assert event.before == {
        "phone": old_phone,
        "trades": ["tailoring"],
        "town": "Gikomba",
        "capacity": 5,
    }
    assert words("provider_changed", "en", name=provider.name) in _text(client.get(answer.location))


def test_a_provider_capacity_never_goes_below_its_trainees_booked(
    web: Web, build: Builders
) -> None:
    provider = build.provider(capacity=5)
    build.booking(provider=provider)
    build.booking(provider=provider)
    _officer(web, build)

    answer = web.post(
        f"/admin/providers/{provider.id}/edit", _provider_form(provider, capacity="1")
    )
    outside = web.post(
        f"/admin/providers/{provider.id}/edit",
        _provider_form(provider, capacity=str(limits.PROVIDER_CAPACITY.high + 1)),
    )

    assert answer.status_code == 422
    assert words("capacity_below_booked", "en", n=2) in _text(answer)
    assert outside.status_code == 422 and words("bad_capacity", "en") in _text(outside)
    db.session.expire_all()
    assert db.session.get(Provider, provider.id).capacity == 5  # type: ignore[union-attr]


def test_a_provider_phone_that_signs_in_for_another_is_refused(web: Web, build: Builders) -> None:
    provider, other = build.provider(), build.provider()
    _officer(web, build)

    answer = web.post(
        f"/admin/providers/{provider.id}/edit", _provider_form(provider, phone=other.phone)
    )

    assert answer.status_code == 422
    assert words("phone_taken", "en") in _text(answer)
    assert _events("provider.changed") == []


def test_a_provider_without_a_trade_is_refused(web: Web, build: Builders) -> None:
    provider = build.provider()
    _officer(web, build)
    answer = web.post(f"/admin/providers/{provider.id}/edit", _provider_form(provider, trades=[]))
    assert answer.status_code == 422 and words("need_trade", "en") in _text(answer)


def test_a_person_is_stopped_from_signing_in_for_a_provider_and_let_back(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider(kind="institute")
    extra = providers.add_staff(provider.id, "Second Trainer", "0733 555 666", "t")
    first = provider.staff[0]
    _officer(web, build)
    page = f"/admin/providers/{provider.id}"

    web.post(f"{page}/staff/{extra.id}/stop", token_from=page)
    db.session.expire_all()
    assert db.session.get(ProviderStaff, extra.id).active is False  # type: ignore[union-attr]
    web.post(f"{page}/staff/{first.id}/stop", token_from=page)
    assert words("last_staff_stays", "en") in _text(client.get(page))
    db.session.expire_all()
    assert db.session.get(ProviderStaff, first.id).active is True  # type: ignore[union-attr]
    web.post(f"{page}/staff/{extra.id}/restore", token_from=page)
    db.session.expire_all()
    assert db.session.get(ProviderStaff, extra.id).active is True  # type: ignore[union-attr]
    assert [
        e.action
        for e in db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.like("provider.staff_%"))
            .order_by(AuditEvent.seq)
        )
    ] == ["provider.staff_added", "provider.staff_deactivated", "provider.staff_reactivated"]


def test_the_change_pages_read_in_kiswahili(web: Web, client: FlaskClient, build: Builders) -> None:
    from tests.web.test_staff_pages_in_kiswahili import _leftovers, _visible

    programme, provider = build.programme(), build.provider()
    _officer(web, build)
    web.post("/language", {"lang": "sw", "back": "/admin"}, token_from="/admin")
    for path, said in (
        (f"/admin/programmes/{programme.id}/edit", "Bajeti inaweza kuongezwa tu"),
        (f"/admin/providers/{provider.id}/edit", "Akaunti ya malipo hubadilishwa"),
        (f"/admin/providers/{provider.id}", "Zuia kuingia"),
    ):
        page = _visible(client.get(path))
        assert said in page, path
        assert _leftovers(page) == [], path
