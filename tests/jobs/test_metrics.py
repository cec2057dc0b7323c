"""/metrics: every family an operator alerts on, with plausible values after a USSD conversation, an
SMS and a job run; never a phone number; protected by METRICS_TOKEN. /healthz adds the heartbeats.
Request logs in production: one JSON line per request, phone numbers masked."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from marketplace import logs, metrics
from marketplace.extensions import db
from marketplace.services import heartbeat
from marketplace.services import scheduler as jobs
from sms import worker
from sms.gateway import Outcome
from tests.dialer import Dialer
from tests.sms.conftest import post_sms

TOKEN = "metrics-token-for-the-tests-0123"
PHONE_LIKE = re.compile(r"\+?\d{9,15}")


@pytest.fixture
def token(app) -> Iterator[str]:
    app.config["METRICS_TOKEN"] = TOKEN
    yield TOKEN
    app.config["METRICS_TOKEN"] = ""


def scrape(client) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return text, samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_each_family_with_plausible_values_and_no_phone_number(
    app, client, build, gateway, token
):
    _, before = scrape(client)
    voucher = build.voucher()  # its SMS is queued
    person = voucher.entrepreneur.phone
    provider = build.provider()
    build.recorded_session(now=datetime.now(UTC) - timedelta(days=5))  # for the job to lapse

    phone = Dialer(client, person)
    assert phone.dial().startswith("Ujuzi: hello")
    phone.press("1")  # my vouchers
    assert phone.press("0").startswith("Ujuzi: hello")
    assert not phone.ended
    post_sms(client, person, "HELP")  # an inbound SMS
    gateway.fail_next(Outcome.PERMANENT)
    worker.drain(db.session(), gateway, batch_size=1)  # the first fails for good, then the rest go
    worker.drain(db.session(), gateway)
    build.voucher(now=datetime.now(UTC))  # one left pending in the outbox, queued now
    jobs.ensure_rows()
    jobs.tick([jobs.Scheduled(jobs.JOBS[2], timedelta(minutes=15))], "host-a:1", jobs.Policy())
    heartbeat.beat("sms-worker", "host-b:1")

    text, after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("ujuzi_http_requests_total", kind="ussd", status="2xx") == 3
    assert grew("ujuzi_http_requests_total", kind="sms", status="2xx") == 1
    assert grew("ujuzi_http_request_duration_seconds_count", kind="ussd") == 3
    assert 0 < grew("ujuzi_http_request_duration_seconds_sum", kind="ussd") < 30
    assert grew("ujuzi_ussd_hops_total", outcome="continued") == 3
    assert value(after, "ujuzi_sms_outbox_messages", state="pending") >= 1
    assert value(after, "ujuzi_sms_outbox_messages", state="failed") == 1
    assert 0 <= value(after, "ujuzi_sms_outbox_oldest_pending_age_seconds") < 60
    sent = sum(v for (n, _), v in after.items() if n == "ujuzi_sms_sent_total")
    assert sent >= 4  # voucher issued, mentor approved, booked (both sides), reply to HELP, ...
    assert sum(v for (n, _), v in after.items() if n == "ujuzi_sms_failed_total") == 1
    assert value(after, "ujuzi_job_runs_total", job="lapse-sessions", outcome="succeeded") == 1
    assert value(after, "ujuzi_job_runs_total", job="lapse-sessions", outcome="failed") == 0
    last = value(after, "ujuzi_job_last_success_timestamp_seconds", job="lapse-sessions")
    assert abs(last - datetime.now(UTC).timestamp()) < 60
    for component in ("scheduler", "sms-worker"):
        beat = value(after, "ujuzi_heartbeat_timestamp_seconds", component=component)
        assert abs(beat - datetime.now(UTC).timestamp()) < 60
    assert person not in text and person.lstrip("+") not in text
    assert provider.phone.lstrip("+") not in text
    label_values = [v for (_, labels) in after for _, v in labels]
    assert label_values and not [v for v in label_values if PHONE_LIKE.search(v)]


def test_metrics_need_the_token_when_one_is_set(client, token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_ussd_hop_that_fails_is_counted_as_failed(client, build, monkeypatch):
    from sms.ussd import engine

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "_answer", broken)
    before = metrics.USSD_HOPS.labels("failed")._value.get()
    phone = Dialer(client, build.voucher().entrepreneur.phone)
    phone.dial()
    assert phone.ended
    assert metrics.USSD_HOPS.labels("failed")._value.get() == before + 1


def test_healthz_shows_when_the_worker_and_the_scheduler_were_last_alive(client):
    assert client.get("/healthz").get_json()["heartbeats"] == {
        "sms-worker": None,
        "scheduler": None,
    }
    heartbeat.beat("scheduler", "host-a:1", datetime.now(UTC) - timedelta(seconds=30))
    beats = client.get("/healthz").get_json()["heartbeats"]
    assert beats["sms-worker"] is None
    assert 29 <= beats["scheduler"]["age_seconds"] <= 40


def test_production_logs_one_json_line_per_request_with_its_id_kind_outcome_and_duration(
    app, client, build, caplog
):
    person = build.voucher().entrepreneur.phone
    instrumented = app.wsgi_app
    assert isinstance(instrumented, metrics.Instrumented)
    monkey = instrumented.log_requests
    instrumented.log_requests = True
    try:
        with caplog.at_level(logging.INFO, logger="marketplace.metrics"):
            Dialer(client, person).dial()
            client.get("/healthz", headers={"X-Request-Id": "lb-1234"})
    finally:
        instrumented.log_requests = monkey
    lines = [json.loads(logs.JsonFormatter().format(r)) for r in caplog.records]
    hop, health = [line for line in lines if line.get("event") == "request"]
    assert (hop["kind"], hop["outcome"], hop["status"]) == ("ussd", "continued", 200)
    assert len(hop["request_id"]) == 32 and hop["duration_ms"] > 0
    assert (health["kind"], health["request_id"], health["outcome"]) == ("ops", "lb-1234", "2xx")


def test_log_lines_never_carry_a_phone_number_in_full():
    record = logging.LogRecord(
        "sms",
        logging.WARNING,
        __file__,
        1,
        "no reply for %s (%s)",
        ("+254706100362", "254711000111"),
        None,
    )
    line = logs.JsonFormatter().format(record)
    assert "+254706100362" not in line and "254711000111" not in line
    assert json.loads(line)["message"] == "no reply for +2547*****362 (25471****111)"
    assert logs.mask_name("Amina Wanjiru") == "A. W."
