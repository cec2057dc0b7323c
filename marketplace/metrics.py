"""`/metrics` in the Prometheus text format (the official `prometheus-client`), and the request
instrumentation behind it.

Two kinds of figures, each kept where it is true for every process:

- What a request does (requests and latency by route kind, USSD hops by outcome) is counted in the
  process that served it, in memory: no database statement, a few microseconds a request. Gunicorn
  runs several processes, so it runs the client in multiprocess mode (`gunicorn.conf.py` sets
  `PROMETHEUS_MULTIPROC_DIR`): each process writes its counters to its own memory-mapped file and a
  scrape, served by any process, adds up every process's files. One scrape per web host then gives
  the host's totals; Prometheus sums the hosts.
- What the database knows (the outbox backlog and the oldest pending message's age, SMS sent and
  failed by kind, job runs and the last success per job, heartbeats) is read at scrape time, so it
  is the same from every process and host, including what the SMS worker and the scheduler did in
  processes that serve no HTTP. Aggregate these with max(), not sum(), across hosts.

Labels are route kinds, outcomes, states, SMS kinds (template names) and job names: never a phone
number, a name or a code. `/metrics` asks for `Authorization: Bearer <METRICS_TOKEN>` when the token is
set (production refuses to start without it).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

KINDS = ("ussd", "sms", "api", "web", "ops")
USSD_OUTCOMES = ("continued", "ended", "failed", "refused")

PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "ujuzi_http_requests",
    "HTTP requests answered, by route kind and status class",
    ("kind", "status"),
    registry=PROCESS_REGISTRY,
)
LATENCY = Histogram(
    "ujuzi_http_request_duration_seconds",
    "Time to answer an HTTP request, by route kind",
    ("kind",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=PROCESS_REGISTRY,
)
USSD_HOPS = Counter(
    "ujuzi_ussd_hops",
    "USSD hops answered, by outcome: continued (CON), ended (END), failed (answered with the "
    "polite END after an unexpected error), refused (the gateway's form was invalid)",
    ("outcome",),
    registry=PROCESS_REGISTRY,
)
_STATUS = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
# The labelled children, made once: looking them up per request would cost more than counting.
_COUNT = {(k, c): REQUESTS.labels(k, s) for k in KINDS for c, s in _STATUS.items()}
_TIME = {k: LATENCY.labels(k) for k in KINDS}
_HOPS = {o: USSD_HOPS.labels(o) for o in USSD_OUTCOMES}
OUTCOME_KEY = "ujuzi.outcome"  # in the WSGI environ: what the route says became of the request
REQUEST_ID_KEY = "ujuzi.request_id"


def route_kind(path: str) -> str:
    if path.startswith("/at/"):
        return "ussd" if "/ussd" in path else "sms"
    if path.startswith("/api/"):
        return "api"
    if path in ("/metrics", "/healthz"):
        return "ops"
    return "web"


def ussd_hop(outcome: str) -> None:
    """Count a USSD hop; the request's log line carries the outcome too."""
    _HOPS[outcome].inc()
    request.environ[OUTCOME_KEY] = outcome


def _request_id(environ: dict[str, Any]) -> str:
    given = str(environ.get("HTTP_X_REQUEST_ID") or "")
    if 0 < len(given) <= 64 and all(c.isalnum() or c in "-_.:" for c in given):
        return given  # the load balancer's, so its log and ours can be joined
    return uuid.uuid4().hex


class Instrumented:
    """WSGI middleware: counts and times every request by route kind, and in production writes
    its log line (request id, route kind, outcome, duration). No database statement."""

    def __init__(self, app: Callable[..., Iterable[bytes]], log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        kind = route_kind(environ.get("PATH_INFO", ""))
        environ[REQUEST_ID_KEY] = _request_id(environ) if self.log_requests else ""
        status = [0]

        def start(status_line: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            status[0] = int(status_line[:3])
            return start_response(status_line, headers, *exc)

        try:
            return self.app(environ, start)
        finally:
            seconds = time.perf_counter() - started
            code = status[0] or 500
            _COUNT.get((kind, code // 100), _COUNT[kind, 5]).inc()
            _TIME[kind].observe(seconds)
            if self.log_requests:
                log.info(
                    "request",
                    extra={
                        "event": "request",
                        "request_id": environ[REQUEST_ID_KEY],
                        "kind": kind,
                        "method": environ.get("REQUEST_METHOD"),
                        "status": code,
                        "outcome": environ.get(OUTCOME_KEY) or _STATUS.get(code // 100, "5xx"),
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )


# --------------------------------------------------------------------------- read at scrape time


class DatabaseFigures(Collector):
    """The figures the database holds, read when scraped (a handful of small statements)."""

    def collect(self) -> Iterator[Metric]:
        from .extensions import db

        try:
            yield from _outbox_figures()
            yield from _job_figures()
            yield from _heartbeat_figures()
        except sa.exc.SQLAlchemyError:
            log.exception("metrics: the database could not be read")
            db.session.rollback()
        finally:
            db.session.rollback()  # only read: end the transaction


def _outbox_figures() -> Iterator[Metric]:
    from .domain.base import utcnow
    from .queries import outbox

    now = utcnow()
    backlog = GaugeMetricFamily(
        "ujuzi_sms_outbox_messages",
        "SMS in the outbox that have not gone out, by state",
        labels=("state",),
    )
    figures = outbox.backlog(now)
    for state, n in figures.items():
        if state != "oldest_pending_age_seconds":
            backlog.add_metric((state,), n)
    yield backlog
    yield GaugeMetricFamily(
        "ujuzi_sms_outbox_oldest_pending_age_seconds",
        "How long the oldest pending SMS has waited since it was written (0: none pending)",
        value=figures["oldest_pending_age_seconds"],
    )
    sent = CounterMetricFamily(
        "ujuzi_sms_sent", "SMS accepted by the gateway, by kind", labels=("kind",)
    )
    failed = CounterMetricFamily(
        "ujuzi_sms_failed",
        "SMS that failed for good (refused, undeliverable, retries used up), by kind",
        labels=("kind",),
    )
    for kind, n_sent, n_failed in outbox.sent_and_failed_by_kind():
        sent.add_metric((kind,), n_sent)
        failed.add_metric((kind,), n_failed)
    yield sent
    yield failed


def _job_figures() -> Iterator[Metric]:
    from .domain.jobs import ScheduledJob
    from .extensions import db

    runs = CounterMetricFamily(
        "ujuzi_job_runs", "Periodic job runs, by job and outcome", labels=("job", "outcome")
    )
    last = GaugeMetricFamily(
        "ujuzi_job_last_success_timestamp_seconds",
        "When each periodic job last succeeded (Unix time)",
        labels=("job",),
    )
    running = GaugeMetricFamily(
        "ujuzi_job_running", "1 while a run of the job holds its lease", labels=("job",)
    )
    for row in db.session.scalars(sa.select(ScheduledJob).order_by(ScheduledJob.name)):
        runs.add_metric((row.name, "succeeded"), row.succeeded)
        runs.add_metric((row.name, "failed"), row.failed)
        runs.add_metric((row.name, "abandoned"), row.abandoned)
        if row.last_success_at is not None:
            last.add_metric((row.name,), row.last_success_at.timestamp())
        running.add_metric((row.name,), 1 if row.lease_until is not None else 0)
    yield runs
    yield last
    yield running


def _heartbeat_figures() -> Iterator[Metric]:
    from .services import heartbeat

    beats = GaugeMetricFamily(
        "ujuzi_heartbeat_timestamp_seconds",
        "When each kind of long-running process (sms-worker, scheduler) was last alive (Unix time)",
        labels=("component",),
    )
    for component, at in sorted(heartbeat.last_beats().items()):
        beats.add_metric((component,), at.timestamp())
    yield beats


_DATABASE_REGISTRY = CollectorRegistry(auto_describe=False)
_DATABASE_REGISTRY.register(DatabaseFigures())


def _process_figures() -> bytes:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(PROCESS_REGISTRY)
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


def _authorised() -> bool:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if not token:
        return True  # development; production refuses to start without a token
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def register(app: Flask) -> None:
    app.wsgi_app = Instrumented(  # type: ignore[method-assign]
        app.wsgi_app, log_requests=app.config.get("LOG_FORMAT") == "json"
    )

    @app.get("/metrics")
    def metrics() -> Response:
        if not _authorised():
            return Response(
                "metrics need the token\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = _process_figures() + generate_latest(_DATABASE_REGISTRY)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)
