"""Every figure of the funder statistics, checked against values worked out by hand."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from marketplace.queries import stats
from tests.builders import Builders

from .conftest import PAID_AT, PERIOD_END, Dataset


def _json(client: FlaskClient, token: str, programme_id: int, **params: str) -> Any:
    response = client.get(
        f"/api/v1/programmes/{programme_id}/stats",
        query_string=params,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _rows(body: Any, table: str, label: str) -> dict[str, dict[str, Any]]:
    return {row[label]: row for row in body["tables"][table]["rows"]}


def test_headline_figures_match_the_hand_count(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _json(client, build.api_key("funder", funder="Skills Fund"), dataset.programme.id)
    assert body["headline"] == {
        "entrepreneurs": 15,
        "issued": 15,
        "not_yet_booked": 1,
        "booked": 1,
        "in_progress": 5,
        "completed": 6,
        "expired": 1,
        "revoked": 1,
        "value_issued_minor": 15 * 400_000,
        "value_redeemed_minor": 6 * 400_000 + 5 * 100_000,
        "redemption_rate_pct": round(100 * 2_900_000 / 6_000_000, 1),  # 48.3
        "completion_rate_pct": 40.0,
        # booked after 1..6 days (A), 10 days (B, five times) and 3 days (C0): median of 12
        "median_days_to_booking": 5.5,
        # four sessions, the last confirmed 28 days and 5 minutes after booking
        "median_days_to_completion": 28.0,
        "sessions_confirmed": 6 * 4 + 5,
        "sessions_awaiting": 0,
        "disputes": 1,
        "lapsed": 1,
        "switches": 1,
        # four Achieng recorded their co-payment; twelve vouchers were booked, each with a share
        "co_payments_recorded": 4,
        "co_payment_recorded_pct": round(100 * 4 / 12, 1),
    }
    assert body["programme"]["name"] == "Jua Kali Skills"
    assert body["suppressed_below"] == 5


def test_provider_choice_shows_shares_and_the_preference_index(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _json(client, build.api_key(), dataset.programme.id)
    rows = _rows(body, "provider_choice", "kind")
    # 13 bookings: 7 of the craft worker (A's six and B0's before switching), 6 of the institute.
    # 33 impressions: every list showed the craft worker once and the two institutes.
    assert rows["craft_worker"] == {
        "kind": "craft_worker",
        "entrepreneurs": 7,
        "bookings": 7,
        "booking_share_pct": 53.8,
        "impressions": 11,
        "impression_share_pct": 33.3,
        "preference_index": round((7 / 13) / (11 / 33), 2),
        "switched_to": 0,
    }
    assert rows["craft_worker"]["preference_index"] == 1.62
    assert rows["institute"] == {
        "kind": "institute",
        "entrepreneurs": 6,
        "bookings": 6,
        "booking_share_pct": 46.2,
        "impressions": 22,
        "impression_share_pct": 66.7,
        "preference_index": round((6 / 13) / (22 / 33), 2),
        "switched_to": 1,
    }


def test_breakdowns_by_gender_region_and_age_band_hide_small_groups(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _json(client, build.api_key(), dataset.programme.id)
    gender = _rows(body, "by_gender", "group")
    assert list(gender) == ["female", "male"]
    assert gender["female"] == {
        "group": "female",
        "entrepreneurs": 9,
        "issued": 9,
        "ever_booked": 7,
        "completed": 6,
        "value_issued_minor": 3_600_000,
        "value_redeemed_minor": 2_400_000,
        "redemption_rate_pct": 66.7,
        "completion_rate_pct": 66.7,
    }
    assert gender["male"] == {
        "group": "male",
        "entrepreneurs": 6,
        "issued": 6,
        "ever_booked": 5,
        "completed": 0,
        "value_issued_minor": 2_400_000,
        "value_redeemed_minor": 500_000,
        "redemption_rate_pct": 20.8,
        "completion_rate_pct": 0.0,
    }
    region = _rows(body, "by_region", "group")
    for small in ("mombasa", "kisumu"):  # two entrepreneurs and one
        assert set(region[small].values()) == {small, "<5"}
    # Together they are three people: the 15 of the headline less Nairobi's 12 would tell their
    # figures, so Nairobi is hidden too.
    assert set(region["nairobi"].values()) == {"nairobi", "hidden"}
    age = _rows(body, "by_age_band", "group")
    assert list(age) == ["under 25", "25-34", "45-54", "55 and over"]
    assert age["25-34"] == {
        "group": "25-34",
        "entrepreneurs": 7,
        "issued": 7,
        "ever_booked": 6,
        "completed": 6,
        "value_issued_minor": 2_800_000,
        "value_redeemed_minor": 2_400_000,
        "redemption_rate_pct": 85.7,
        "completion_rate_pct": 85.7,
    }
    assert set(age["under 25"].values()) == {"under 25", "<5"}
    assert set(age["55 and over"].values()) == {"55 and over", "<5"}
    # Three people under 25 and over 54: the next-smallest band (five men aged 45) is hidden too.
    assert set(age["45-54"].values()) == {"45-54", "hidden"}
    trade = _rows(body, "by_trade", "group")
    assert trade["tailoring"]["issued"] == 15


def test_monthly_trend_counts_each_month_and_hides_small_ones(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _json(client, build.api_key(), dataset.programme.id)
    assert body["tables"]["monthly"]["rows"] == [
        {
            "month": "2024-11",
            "issued": "<5",
            "bookings": 0,
            "sessions_confirmed": 0,
            "value_paid_minor": 0,
        },
        {
            "month": "2025-03",
            "issued": "hidden",  # the headline's 15 less 14 would give November's one voucher
            "bookings": 13,
            "sessions_confirmed": 23,
            "value_paid_minor": 0,
        },
        {
            "month": "2025-04",
            "issued": 0,
            "bookings": 0,
            "sessions_confirmed": 6,
            "value_paid_minor": 23 * 100_000,
        },
    ]


def test_payment_speed_ratings_and_top_providers(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _json(client, build.api_key(), dataset.programme.id)
    waits = [(PAID_AT - c).total_seconds() / 86400 for c in dataset.confirmed_at if c < PERIOD_END]
    assert len(waits) == 23
    assert body["tables"]["payment_speed"]["rows"] == [
        {
            "sessions_paid": 23,
            "median_days": round(statistics.median(waits), 1),
            "mean_days": round(statistics.mean(waits), 1),
            "max_days": round(max(waits), 1),
        }
    ]
    rating = _rows(body, "ratings", "kind")
    assert rating["institute"] == {
        "kind": "institute",
        "ratings": "<5",
        "average_stars": "<5",
    }  # four raters
    assert rating["craft_worker"] == {  # six raters, hidden with the four
        "kind": "craft_worker",
        "ratings": "hidden",
        "average_stars": "hidden",
    }
    women = _rows(
        _json(client, build.api_key(), dataset.programme.id, gender="female"), "ratings", "kind"
    )
    assert women["craft_worker"] == {
        "kind": "craft_worker",
        "ratings": 6,
        "average_stars": round(26 / 6, 2),
    }
    assert women["institute"]["ratings"] == 0  # nobody hidden, nothing to complement
    assert body["tables"]["top_providers"]["rows"] == [
        {
            "provider_number": dataset.craft_worker.number,
            "provider": "Mama Wanjiku Tailors",
            "kind": "craft_worker",
            "completed": 6,
        }
    ]


def test_filters_narrow_every_figure(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    token = build.api_key()
    men = _json(client, token, dataset.programme.id, gender="male")
    assert men["filters"]["gender"] == "male"
    head = men["headline"]
    assert (head["issued"], head["in_progress"], head["revoked"], head["completed"]) == (6, 5, 1, 0)
    assert (head["sessions_confirmed"], head["lapsed"], head["disputes"], head["switches"]) == (
        5,
        1,
        0,
        1,
    )
    choice = _rows(men, "provider_choice", "kind")
    assert choice["craft_worker"]["bookings"] == "<5"  # B0 alone
    assert choice["institute"]["bookings"] == "hidden"  # else its share would tell B0's
    assert set(choice["institute"].values()) == {"institute", "hidden"}

    recent = _json(
        client, token, dataset.programme.id, **{"from": "2025-03-01", "to": "2025-03-31"}
    )
    assert recent["headline"]["issued"] == 14
    assert recent["headline"]["expired"] == 0

    coast = _json(client, token, dataset.programme.id, region="mombasa")
    assert set(coast["headline"].values()) == {"<5"}

    both = _json(
        client,
        token,
        dataset.programme.id,
        region="nairobi",
        trade="tailoring",
        gender="female",
        **{"to": "2025-03-03"},
    )
    assert both["headline"]["issued"] == 7  # A's six and E


def test_a_funder_key_cannot_see_another_funders_programme(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    token = build.api_key("funder", funder="Skills Fund")
    response = client.get(
        f"/api/v1/programmes/{dataset.other.id}/stats", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    admin = build.api_key()
    assert _json(client, admin, dataset.other.id)["headline"]["issued"] == "<5"


def test_statistics_need_a_key_and_valid_filters(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    url = f"/api/v1/programmes/{dataset.programme.id}/stats"
    assert client.get(url).status_code == 401
    headers = {"Authorization": f"Bearer {build.api_key()}"}
    bad = client.get(url, query_string={"from": "2025-04-01", "to": "2025-03-01"}, headers=headers)
    assert bad.status_code == 422
    assert client.get(url, query_string={"gender": "unknown"}, headers=headers).status_code == 422
    assert client.get("/api/v1/programmes/9999/stats", headers=headers).status_code == 404


def test_no_phone_number_or_name_reaches_the_json_or_csv(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = client.get(
        f"/api/v1/programmes/{dataset.programme.id}/stats",
        headers={"Authorization": f"Bearer {build.api_key()}"},
    ).get_data(as_text=True)
    report = stats.programme_stats(dataset.programme)
    csv_text = stats.report_csv(report)
    for text in (body, csv_text):
        for phone in dataset.phones:
            assert phone not in text and phone.removeprefix("+") not in text
        for name in dataset.names:
            assert name.split()[0] not in text


def test_the_csv_carries_the_same_figures_as_the_json(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    body = _json(client, build.api_key(), dataset.programme.id)
    # Every table of the dashboard, the redemption by provider kind too.
    report = stats.programme_stats(dataset.programme)
    assert set(body["tables"]) == {t.key for t in report.tables}
    assert "redemption_by_kind" in body["tables"]
    rows = list(csv.DictReader(io.StringIO(stats.report_csv(report))))
    assert any(r["table"] == "redemption_by_kind" for r in rows)
    expected = [("headline", key, "value", value) for key, value in body["headline"].items()]
    for key, table in body["tables"].items():
        label = table["columns"][0]["key"]
        for row in table["rows"]:
            expected += [
                (key, row[label], col, value) for col, value in row.items() if col != label
            ]
    got = [(r["table"], r["row"], r["column"], r["value"]) for r in rows]
    # JSON objects have no order; the CSV keeps the page's order.
    assert sorted(got) == sorted(
        (t, str(r), c, "" if v is None else str(v)) for t, r, c, v in expected
    )


@pytest.mark.parametrize(
    ("value", "people", "shown"),
    [
        (3, 3, "<5"),
        (4, 4, "<5"),
        (1_000, 1, "<5"),
        (5, 5, 5),
        (0, 0, 0),
        (None, 2, "<5"),
    ],
)
def test_suppression_hides_every_figure_about_fewer_than_five_people(
    value: Any, people: int, shown: Any
) -> None:
    assert stats.suppress(value, people) == shown


def test_an_empty_programme_reports_zeros_without_failing(
    build: Builders, client: FlaskClient
) -> None:
    programme = build.programme()
    body = _json(client, build.api_key(), programme.id, **{"from": date(2025, 1, 1).isoformat()})
    assert body["headline"]["issued"] == 0
    assert body["headline"]["redemption_rate_pct"] is None
    assert body["tables"]["monthly"]["rows"] == []


@pytest.mark.parametrize(
    ("people", "hidden"),
    [
        ([12, 2], {0, 1}),  # one small row: the other is hidden with it
        ([12, 2, 1], {0, 1, 2}),  # two small rows of three people: not enough together
        ([20, 9, 6, 3], {2, 3}),  # the smallest row shown goes, not the largest
        ([20, 3, 4], {1, 2}),  # two small rows of seven people together are enough
        ([20, 6, 6, 1], {1, 3}),  # a tie: the first in the table
        ([20, 0, 2], {0, 2}),  # a row about nobody reveals nothing and hides nothing
        ([2], {0}),
        ([9, 5, 0], set()),
        ([], set()),
    ],
)
def test_complementary_suppression_hides_rows_until_the_hidden_cover_five_people(
    people: list[int], hidden: set[int]
) -> None:
    assert stats.complementary(people) == hidden


@pytest.mark.parametrize(
    "query", [{}, {"gender": "female"}, {"gender": "male"}, {"region": "nairobi"}]
)
def test_no_hidden_row_can_be_worked_out_from_the_totals(
    dataset: Dataset, build: Builders, client: FlaskClient, query: dict[str, str]
) -> None:
    body = _json(client, build.api_key(), dataset.programme.id, **query)
    head = body["headline"]
    partitions = {  # column of a breakdown -> the headline figure its rows add up to
        "entrepreneurs": "entrepreneurs",
        "issued": "issued",
        "completed": "completed",
        "value_issued_minor": "value_issued_minor",
        "value_redeemed_minor": "value_redeemed_minor",
    }
    assert not isinstance(head["entrepreneurs"], str)
    small_groups = 0
    for key in ("by_trade", "by_region", "by_gender", "by_age_band"):
        rows = body["tables"][key]["rows"]
        small_groups += sum(r["entrepreneurs"] == "<5" for r in rows)
        for column, total in partitions.items():
            hidden = [r for r in rows if isinstance(r[column], str)]
            if not hidden:
                continue
            assert len(hidden) >= 2, (query, key, column)
            left = head[total] - sum(r[column] for r in rows if not isinstance(r[column], str))
            if column == "entrepreneurs":  # what subtraction tells is about five people or more
                assert left >= 5, (query, key)
    assert small_groups  # there was something to protect
    monthly = [r["issued"] for r in body["tables"]["monthly"]["rows"]]
    if any(isinstance(v, str) for v in monthly) and not isinstance(head["issued"], str):
        assert sum(isinstance(v, str) for v in monthly) >= 2, query
    # Two kinds: one hidden means the other is too, unless it is about nobody (nothing to learn).
    for key, count in (("provider_choice", "bookings"), ("ratings", "ratings")):
        rows = body["tables"][key]["rows"]
        if any(r[count] == "<5" for r in rows):
            assert all(r[count] in ("<5", "hidden", 0) for r in rows), (query, key)


def test_a_lone_small_region_is_not_given_away_by_the_total(
    dataset: Dataset, build: Builders, client: FlaskClient
) -> None:
    """The reviewer's case: the women of Mombasa (two) were the nine women less Nairobi's seven."""
    body = _json(client, build.api_key(), dataset.programme.id, gender="female")
    assert body["headline"]["entrepreneurs"] == 9
    region = _rows(body, "by_region", "group")
    assert set(region) == {"nairobi", "mombasa"}
    assert set(region["mombasa"].values()) == {"mombasa", "<5"}
    assert set(region["nairobi"].values()) == {"nairobi", "hidden"}
    assert body["markers"] == {
        "<5": "a figure about fewer than 5 entrepreneurs",
        "hidden": "withheld so that a <5 figure of the same table cannot be worked out from the "
        "totals",
    }
