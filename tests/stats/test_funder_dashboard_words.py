"""The funder dashboard in words a person reads: English or Kiswahili, switched like every other
page; rows by their names, not codes; a chart with nothing it may draw says so."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask.testing import FlaskClient

from marketplace.messages import catalogue, pages
from marketplace.queries import stats
from marketplace.services import reference
from marketplace.web import funder
from tests.builders import Builders

from .conftest import Dataset
from .test_funder_pages import TOKEN, Tables, sign_in

TEMPLATES = Path(funder.__file__).resolve().parents[2] / "templates" / "funder"


def _visible(body: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _choose(client: FlaskClient, lang: str, back: str) -> None:
    token = TOKEN.search(client.get(back).get_data(as_text=True))
    assert token
    answer = client.post(
        "/language", data={"lang": lang, "back": back, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302 and answer.location == back


def _english_phrases() -> set[str]:
    """Every English phrase of two words or more of the dashboard's texts that the Kiswahili
    does not also use."""
    english, kiswahili = catalogue.own_texts("en"), catalogue.own_texts("sw")
    found = set()
    for key, en in english.items():
        if not key.startswith("funder."):
            continue
        for part in re.split(r"\{[^}]*\}", en):
            part = " ".join(part.split()).strip(" .,:;()'\"")
            if len(part.split()) >= 2 and part not in kiswahili[key]:
                found.add(part)
    return found


def test_every_word_the_dashboard_asks_for_is_in_both_languages(dataset: Dataset) -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"_\('([a-z0-9_.]+)'\s*[,)]", template.read_text()))
    report = stats.programme_stats(dataset.programme)
    used |= {f"figure.{row['key']}" for row in report.headline.rows}
    used |= {f"gender_{g}" for g in ("female", "male", "other")}
    used |= {"kind_craft_worker", "kind_institute", "chart_suppressed", "nothing_yet", "hidden"}
    english, kiswahili = catalogue.own_texts("en"), catalogue.own_texts("sw")
    for key in used:
        assert key in pages.funder, key
        if f"funder.{key}" in english:
            assert kiswahili[f"funder.{key}"] != english[f"funder.{key}"] or key == "csv", key
    for table in report.tables:
        for lang in ("en", "sw"):
            assert funder.title(table, lang)
            for column in table.columns:
                assert funder.column_label(table, column, lang), (table.key, column.key)
        if table.note:
            assert funder.note(table, "sw") != funder.note(table, "en")


def test_the_english_headings_are_the_reports_own(dataset: Dataset) -> None:
    """The page and the JSON/CSV (which keep the report's English) call things the same."""
    report = stats.programme_stats(dataset.programme)
    for row in report.headline.rows:
        assert pages.funder(f"figure.{row['key']}", "en") == row["figure"]
    for table in report.tables:
        assert funder.title(table, "en") == table.title
        for column in table.columns:
            assert funder.column_label(table, column, "en") == column.label, column.key
        if table.note and table.key != "monthly":
            assert funder.note(table, "en") == table.note


def test_the_dashboard_in_kiswahili(dataset: Dataset, build: Builders, client: FlaskClient) -> None:
    sign_in(client, build)
    path = f"/funder/programmes/{dataset.programme.id}"
    _choose(client, "sw", path)
    body = client.get(path).get_data(as_text=True)
    assert '<html lang="sw">' in body
    text = _visible(body)
    for words in (
        "Takwimu kuu",
        "Uchaguzi wa mtoa mafunzo",
        "Mwenendo kwa mwezi",
        "Vocha zilizotolewa",
        "Mikoa yote",
        "Pakua majedwali yote (CSV)",
        "Vocha zinazoonyeshwa: zilizotolewa mwezi wowote.",
        "Lugha",
    ):
        assert words in text, words
    left = sorted(p for p in _english_phrases() if p in text)
    assert left == []
    for english in ("Sign out", "Headline figures", "Provider choice", "Monthly trend", "By trade"):
        assert english not in text
    parsed = Tables()
    parsed.feed(body)
    genders = [row[0] for row in parsed.tables["by_gender"][1:]]
    assert genders == ["Mwanamke", "Mwanamume"]
    assert parsed.tables["provider_choice"][1][0] == "Fundi"
    assert "imefichwa" in text and "hidden" not in text
    # Age bands and months by their Kiswahili names (months through Babel), on the chart too.
    bands = [row[0] for row in parsed.tables["by_age_band"][1:]]
    assert "chini ya miaka 25" in bands and "under 25" not in text
    months = [row[0] for row in parsed.tables["monthly"][1:]]
    assert months == ["Novemba 2024", "Machi 2025", "Aprili 2025"]
    assert parsed.charts["chart-monthly"]["labels"] == months
    assert not re.search(r"\b20\d\d-\d\d\b", text)  # no YYYY-MM left

    _choose(client, "en", path)
    english = _visible(client.get(path).get_data(as_text=True))
    assert "Headline figures" in english and "Takwimu kuu" not in english


def test_the_programmes_page_in_kiswahili(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    _choose(client, "sw", "/funder")
    text = _visible(client.get("/funder").get_data(as_text=True))
    assert "Takwimu za matumizi ya vocha" in text and "<5" in text
    assert "Redemption statistics" not in text


def test_rows_and_charts_are_named_not_coded(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    parsed = Tables()
    parsed.feed(client.get(f"/funder/programmes/{dataset.programme.id}").get_data(as_text=True))
    report = stats.programme_stats(dataset.programme)
    codes = [row["group"] for row in report.table("by_trade").rows]
    names = [reference.trade_name(str(code)) for code in codes]
    assert names and all(name != code for name, code in zip(names, codes, strict=True))
    assert [row[0] for row in parsed.tables["by_trade"][1:]] == names
    assert parsed.tables["by_region"][1][0] in {name for _code, name in reference.regions()}
    for key, chart in parsed.charts.items():
        table = report.table(key.removeprefix("chart-"))
        column = table.chart.label_column if table.chart else ""
        raw = [str(row[column]) for row in table.rows]
        if key in ("chart-by_trade", "chart-by_region", "chart-by_gender", "chart-provider_choice"):
            assert not set(chart["labels"]) & set(raw), key
    trade = funder.chart_payload(report.table("by_trade"), "sw")
    assert trade is not None
    assert trade["labels"] == [reference.trade_name(str(c), "sw") for c in codes]
    assert trade["datasets"][0]["label"] == "Zilizotolewa"


def _table(rows: list[dict[str, stats.Cell]]) -> stats.Table:
    return stats.Table(
        "by_gender",
        "By gender",
        [stats.Column("group", "Gender", "text"), stats.Column("issued", "Issued")],
        rows=rows,
        chart=stats.Chart("bar", "group", ("issued",)),
    )


def test_a_chart_with_every_figure_withheld_says_so() -> None:
    withheld = _table([{"group": "female", "issued": "<5"}, {"group": "male", "issued": "hidden"}])
    assert funder.chart_gap(withheld) == "chart_suppressed"
    drawn = _table([{"group": "female", "issued": "<5"}, {"group": "male", "issued": 7}])
    assert funder.chart_gap(drawn) is None
    empty = _table([{"group": "female", "issued": None}])
    assert funder.chart_gap(empty) == "nothing_yet"
    assert funder.chart_gap(_table([])) is None  # no rows: the table says there is nothing


def test_the_page_puts_words_where_a_withheld_chart_would_be(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    path = f"/funder/programmes/{dataset.programme.id}"
    body = client.get(path, query_string={"region": "mombasa"}).get_data(as_text=True)
    report = stats.programme_stats(dataset.programme, stats.StatsFilter(region="mombasa"))
    withheld = [t.key for t in report.tables if funder.chart_gap(t) == "chart_suppressed"]
    assert withheld, "the Mombasa view has a chart with every figure withheld"
    for key in withheld:
        assert f'id="chart-{key}"' not in body
        gap = re.search(rf'<p class="chart-gap" data-chart="{key}">([^<]*)</p>', body)
        assert gap and html.unescape(gap.group(1)) == pages.funder(
            "chart_suppressed", "en", small=5
        )
    drawn = [t.key for t in report.tables if t.chart and t.rows and not funder.chart_gap(t)]
    for key in drawn:
        assert f'id="chart-{key}"' in body


def test_redemption_by_provider_kind_on_the_page_in_both_languages(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    path = f"/funder/programmes/{dataset.programme.id}"
    report = stats.programme_stats(dataset.programme)
    table = report.table("redemption_by_kind")
    assert [row["kind"] for row in table.rows] == ["craft_worker", "institute"]
    confirmed = [row["sessions_confirmed"] for row in table.rows]
    assert any(isinstance(n, int) and n > 0 for n in confirmed)
    parsed = Tables()
    parsed.feed(client.get(path).get_data(as_text=True))
    on_page = parsed.tables["redemption_by_kind"]
    assert on_page[0][0] == "Provider kind"
    assert [row[0] for row in on_page[1:]] == ["Craft worker", "Training institute"]
    assert [row[2] for row in on_page[1:]] == [funder.show(n, "count", "KES") for n in confirmed]
    _choose(client, "sw", path)
    sw = client.get(path).get_data(as_text=True)
    assert "Matumizi ya vocha kwa aina ya mtoa mafunzo" in _visible(sw)
    parsed = Tables()
    parsed.feed(sw)
    assert [row[0] for row in parsed.tables["redemption_by_kind"][1:]] == [
        "Fundi",
        "Chuo cha mafunzo",
    ]


def test_a_bad_filter_is_explained_in_the_pages_language(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    sign_in(client, build)
    path = f"/funder/programmes/{dataset.programme.id}"
    _choose(client, "sw", path)
    after = client.get(f"{path}?from=2025-05-01&to=2025-03-01")
    assert after.status_code == 422
    text = _visible(after.get_data(as_text=True))
    assert "Zilizotolewa kuanzia: isiwe baada ya tarehe ya mwisho." in text
    assert "Takwimu zilizo hapa chini hazijachujwa." in text
    bad = _visible(client.get(f"{path}?from=mwezi&gender=x").get_data(as_text=True))
    assert "Zilizotolewa kuanzia: weka tarehe kama YYYY-MM-DD." in bad
    assert "chagua kimoja kwenye orodha." in bad
    for english in ("Not a valid date", "must not be after", "Must be one of"):
        assert english not in bad and english not in text
    _choose(client, "en", path)
    again = _visible(client.get(f"{path}?from=2025-05-01&to=2025-03-01").get_data(as_text=True))
    assert "Issued from: it must not be after the end date." in again
