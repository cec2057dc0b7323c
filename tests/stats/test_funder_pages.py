"""The /funder dashboard: who may see it, and that the page, CSV and JSON tell the same story."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

from marketplace.queries import stats
from marketplace.web.funder import show
from tests.builders import Builders

from .conftest import REFRESHED_AT, Dataset

KINDS = {"craft_worker": "Craft worker", "institute": "Training institute"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(
    client: FlaskClient, build: Builders, role: str = "funder", funder: str | None = "Skills Fund"
) -> None:
    user = build.staff_user(role, funder=funder if role == "funder" else None)
    page = client.get("/signin").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token
    answer = client.post(
        "/signin",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "csrf_token": token.group(1),
        },
    )
    assert answer.status_code == 302


class Tables(HTMLParser):
    """Each `<table data-table=...>` as rows of cell texts, and the chart data blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.charts: dict[str, Any] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._chart: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-table"):
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "script" and a.get("class") == "chart-data":
            self._chart = str(a["data-canvas"])
            self._text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "script" and self._chart:
            self.charts[self._chart] = json.loads(self._text)
            self._chart = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._chart:
            self._text += data


def report_columns(dataset: Dataset, table: str) -> list[stats.Column]:
    return stats.programme_stats(dataset.programme).table(table).columns


def _api(client: FlaskClient, build: Builders, programme_id: int, **params: str) -> Any:
    return client.get(
        f"/api/v1/programmes/{programme_id}/stats",
        query_string=params,
        headers={"Authorization": f"Bearer {build.api_key()}"},
    ).get_json()


def test_the_dashboard_needs_a_funder_or_officer_sign_in(
    dataset: Dataset, client: FlaskClient
) -> None:
    answer = client.get(f"/funder/programmes/{dataset.programme.id}")
    assert answer.status_code == 302
    assert answer.location.startswith("/signin")
    assert client.get(f"/funder/programmes/{dataset.programme.id}/stats.csv").status_code == 302


def test_a_funder_sees_its_own_programmes_only(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    home = client.get("/funder").get_data(as_text=True)
    assert "Jua Kali Skills" in home
    assert "Coast Crafts" not in home
    other = dataset.other.id
    for path in (
        f"/funder/programmes/{other}",
        f"/funder/programmes/{other}/stats.csv",
        f"/funder/programmes/{other}/headline.csv",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/funder/programmes/{dataset.programme.id}").status_code == 200


def test_an_officer_sees_every_programme(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build, role="admin")
    home = client.get("/funder").get_data(as_text=True)
    assert "Jua Kali Skills" in home and "Coast Crafts" in home
    assert client.get(f"/funder/programmes/{dataset.other.id}").status_code == 200


def test_every_table_on_the_page_shows_the_json_figures(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _api(client, build, dataset.programme.id)
    sign_in(client, build)
    page = client.get(f"/funder/programmes/{dataset.programme.id}")
    assert page.status_code == 200
    parsed = Tables()
    parsed.feed(page.get_data(as_text=True))

    headline = {row[0]: row[1] for row in parsed.tables["headline"][1:]}
    assert headline["Vouchers issued"] == "15"
    assert headline["Value issued"] == "KES 60,000"
    assert headline["Redemption rate (value of confirmed sessions / value issued)"] == "48.3%"
    assert headline["Median days from issue to booking"] == "5.5"
    assert len(headline) == len(body["headline"])

    for key, table in body["tables"].items():
        columns = table["columns"]
        expected = [
            [
                KINDS[row["kind"]] if c["key"] == "kind" else show(row[c["key"]], c["kind"], "KES")
                for c in columns[1:]
            ]
            for row in table["rows"]
        ]
        on_page = [cells[1:] for cells in parsed.tables.get(key, [[]])[1:]]
        assert on_page == expected, key
    choice = parsed.tables["provider_choice"]
    assert choice[1][0] == "Craft worker"
    assert choice[1][6] == "1.62"  # preference index
    region = {row[0]: row for row in parsed.tables["by_region"][1:]}
    assert set(region["Mombasa"][1:]) == {"<5"}


def test_the_charts_draw_the_tables_numbers(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _api(client, build, dataset.programme.id)
    sign_in(client, build)
    parsed = Tables()
    parsed.feed(client.get(f"/funder/programmes/{dataset.programme.id}").get_data(as_text=True))
    monthly = parsed.charts["chart-monthly"]
    assert monthly["type"] == "line"
    assert monthly["labels"] == ["November 2024", "March 2025", "April 2025"]
    issued = next(d for d in monthly["datasets"] if d["label"] == "Vouchers issued")
    # The <5 month is a gap, not a number, and so is the month that would give it away (the
    # headline's 15 issued less 14 would leave 1).
    assert issued["data"] == [None, None, 0]
    choice = parsed.charts["chart-provider_choice"]
    assert choice["type"] == "bar"
    shares = [row["booking_share_pct"] for row in body["tables"]["provider_choice"]["rows"]]
    assert choice["datasets"][0]["data"] == shares


def test_the_csv_downloads_carry_the_json_figures(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _api(client, build, dataset.programme.id, gender="female")
    sign_in(client, build)
    base = f"/funder/programmes/{dataset.programme.id}"
    answer = client.get(f"{base}/by_age_band.csv?gender=female")
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    context = {
        "as_of": body["as_of"],
        "issue_month_from": "",
        "issue_month_to": "",
        "region_filter": "",
        "trade_filter": "",
        "gender_filter": "female",
    }
    assert rows == [
        {**{k: "" if v is None else str(v) for k, v in row.items()}, **context}
        for row in body["tables"]["by_age_band"]["rows"]
    ]
    head = list(
        csv.DictReader(
            io.StringIO(client.get(f"{base}/headline.csv?gender=female").get_data(as_text=True))
        )
    )
    assert {r["key"]: r["value"] for r in head} == {
        k: "" if v is None else str(v) for k, v in body["headline"].items()
    }
    assert {r["as_of"] for r in head} == {body["as_of"]}
    everything = list(
        csv.DictReader(
            io.StringIO(client.get(f"{base}/stats.csv?gender=female").get_data(as_text=True))
        )
    )
    lookup = {(r["table"], r["row"], r["column"]): r["value"] for r in everything}
    assert {r["as_of"] for r in everything} == {body["as_of"]}
    assert lookup[("headline", "issued", "value")] == "9"
    assert lookup[("provider_choice", "craft_worker", "preference_index")] == str(
        body["tables"]["provider_choice"]["rows"][0]["preference_index"]
    )
    assert client.get(f"{base}/nonsense.csv").status_code == 404


def test_the_page_never_shows_a_phone_number_or_an_entrepreneurs_name(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    base = f"/funder/programmes/{dataset.programme.id}"
    texts = [
        client.get(base).get_data(as_text=True),
        client.get(f"{base}/stats.csv").get_data(as_text=True),
    ]
    for text in texts:
        for phone in dataset.phones:
            assert phone not in text and phone[4:] not in text
        for name in dataset.names:
            assert name.split()[0] not in text


def test_filters_on_the_page_narrow_the_figures(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    base = f"/funder/programmes/{dataset.programme.id}"
    parsed = Tables()
    parsed.feed(client.get(f"{base}?gender=male&region=&from=").get_data(as_text=True))
    headline = {row[0]: row[1] for row in parsed.tables["headline"][1:]}
    assert headline["Vouchers issued"] == "6"
    assert headline["Switches (cancelled and booked another mentor)"] == "1"
    bad = client.get(f"{base}?from=2025-05-01&to=2025-03-01")
    assert bad.status_code == 422
    assert "must not be after" in bad.get_data(as_text=True)


def test_the_page_loads_its_scripts_from_our_own_static_files(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    page = client.get(f"/funder/programmes/{dataset.programme.id}")
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", html)
    for attrs in scripts:
        assert 'type="application/json"' in attrs or 'src="/static/' in attrs, attrs
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    library = client.get("/static/vendor/chart.umd.min.js")
    assert library.status_code == 200
    assert b"Chart.js v4" in library.get_data()[:200]
    library.close()


def test_the_page_csv_and_json_all_say_the_figures_are_as_of_the_last_refresh(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    query = {"from": "2025-03-15", "to": "2025-04-02"}
    body = _api(client, build, dataset.programme.id, **query)
    # The time of the roll-up, not of the request.
    assert body["as_of"] == "2025-05-01T06:00:00+00:00" == REFRESHED_AT.isoformat()
    assert body["issue_months"] == {"from": "2025-03", "to": "2025-04"}
    sign_in(client, build)
    base = f"/funder/programmes/{dataset.programme.id}"
    html = client.get(base, query_string=query).get_data(as_text=True)
    assert "as of 01 May 2025 06:00 UTC" in html
    assert f'data-as-of="{body["as_of"]}"' in html
    assert "Showing vouchers issued from March 2025 to April 2025." in html
    assert "filter by issue month" in html
    for path in ("stats.csv", *(f"{key}.csv" for key in ("headline", *body["tables"]))):
        rows = list(
            csv.DictReader(
                io.StringIO(client.get(f"{base}/{path}", query_string=query).get_data(as_text=True))
            )
        )
        assert rows, path
        assert {r["as_of"] for r in rows} == {body["as_of"]}, path
    only_from = client.get(base, query_string={"from": "2025-03-15"}).get_data(as_text=True)
    assert "Showing vouchers issued from March 2025 on." in only_from
    unfiltered = client.get(base).get_data(as_text=True)
    assert "Showing vouchers issued in any month." in unfiltered


def test_the_page_and_csv_hide_the_row_that_would_give_a_small_group_away(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    """Nine women, two of them in Mombasa: Nairobi's seven would tell Mombasa's two by subtraction."""
    sign_in(client, build)
    base = f"/funder/programmes/{dataset.programme.id}"
    html = client.get(base, query_string={"gender": "female"}).get_data(as_text=True)
    parsed = Tables()
    parsed.feed(html)
    region = {row[0]: row[1:] for row in parsed.tables["by_region"][1:]}
    assert set(region["Mombasa"]) == {"<5"}
    assert set(region["Nairobi"]) == {"hidden"}
    assert "next-smallest group of that table reads <em>hidden</em>" in html

    by_region = client.get(f"{base}/by_region.csv", query_string={"gender": "female"})
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(by_region.get_data(as_text=True)))}
    figures = [c.key for c in report_columns(dataset, "by_region")[1:]]
    assert figures and {rows["nairobi"][c] for c in figures} == {"hidden"}
    everything = client.get(f"{base}/stats.csv", query_string={"gender": "female"})
    long_form = list(csv.DictReader(io.StringIO(everything.get_data(as_text=True))))
    nairobi = {r["value"] for r in long_form if (r["table"], r["row"]) == ("by_region", "nairobi")}
    assert nairobi == {"hidden"}


def test_booked_now_and_ever_booked_are_told_apart_on_the_page_csv_and_json(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _api(client, build, dataset.programme.id)
    by_gender = body["tables"]["by_gender"]
    labels = {c["key"]: c["label"] for c in by_gender["columns"]}
    assert labels["ever_booked"] == "Ever booked" and "booked" not in labels
    assert body["headline"]["booked"] == 1  # C0 alone waits for a first confirmed session
    assert {row["group"]: row["ever_booked"] for row in by_gender["rows"]} == {
        "female": 7,
        "male": 5,
    }
    assert {c["key"] for c in body["tables"]["monthly"]["columns"]} >= {"bookings"}

    sign_in(client, build)
    base = f"/funder/programmes/{dataset.programme.id}"
    parsed = Tables()
    html = client.get(base).get_data(as_text=True)
    parsed.feed(html)
    headline = {row[0]: row[1] for row in parsed.tables["headline"][1:]}
    assert headline["Booked now, no session confirmed yet"] == "1"
    assert "Booked" not in headline
    assert parsed.tables["by_gender"][0][3] == "Ever booked"
    assert "Ever booked: vouchers booked at some time" in html

    header = client.get(f"{base}/by_gender.csv").get_data(as_text=True).splitlines()[0]
    assert header.split(",")[:4] == ["group", "entrepreneurs", "issued", "ever_booked"]
    head = list(
        csv.DictReader(io.StringIO(client.get(f"{base}/headline.csv").get_data(as_text=True)))
    )
    booked = next(r for r in head if r["key"] == "booked")
    assert booked["figure"] == "Booked now, no session confirmed yet"


def test_every_csv_row_says_which_issue_months_and_filters_it_counts(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    base = f"/funder/programmes/{dataset.programme.id}"
    query = {"from": "2025-03-15", "to": "2025-04-02", "region": "nairobi", "gender": "female"}
    expected = {
        "issue_month_from": "2025-03",  # the dates are widened to whole issue months
        "issue_month_to": "2025-04",
        "region_filter": "nairobi",
        "trade_filter": "",
        "gender_filter": "female",
    }
    for path in ("stats.csv", "headline.csv", "by_trade.csv", "monthly.csv"):
        text = client.get(f"{base}/{path}", query_string=query).get_data(as_text=True)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows, path
        for row in rows:
            assert {k: row[k] for k in expected} == expected, path
    unfiltered = list(
        csv.DictReader(io.StringIO(client.get(f"{base}/stats.csv").get_data(as_text=True)))
    )
    assert {
        (r["issue_month_from"], r["issue_month_to"], r["gender_filter"]) for r in unfiltered
    } == {("", "", "")}
