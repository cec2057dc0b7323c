"""The web server runs what the USSD benchmark measured, and logs JSON lines in production."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict:
    for name in ("APP_ENV", "LOG_FORMAT", "WEB_CONCURRENCY", "WEB_THREADS", "PORT", "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_the_web_server_runs_two_processes_of_eight_threads_as_the_benchmark_measured(
    monkeypatch, tmp_path
):
    conf = settings(monkeypatch, tmp_path)
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("gthread", 2, 8)
    assert conf["bind"] == "0.0.0.0:8000" and conf["accesslog"] == "-"
    assert "logconfig_dict" not in conf


def test_in_production_gunicorn_logs_json_lines_and_leaves_requests_to_the_app(
    monkeypatch, tmp_path
):
    conf = settings(monkeypatch, tmp_path, APP_ENV="production", PORT="9000")
    assert conf["accesslog"] is None  # the app's request line has no callback secret in it
    assert conf["bind"] == "0.0.0.0:9000"
    logging_config = conf["logconfig_dict"]
    assert logging_config["formatters"]["json"]["()"] == "marketplace.logs.JsonFormatter"
    assert logging_config["root"]["handlers"] == []  # the app adds its own: no line twice
