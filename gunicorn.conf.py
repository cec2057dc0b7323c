"""The web server's settings: those the USSD benchmark measured (bench/README.md), 2 processes of
8 threads each (gthread) per two cores, keep-alive for the load balancer's connections.

WEB_CONCURRENCY (processes), WEB_THREADS, HOST and PORT override them. Keep WEB_THREADS at or under
DB_POOL_SIZE, so that every thread keeps its own database connection between requests.
"""

import os
import shutil
import tempfile

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
keepalive = 30  # seconds; the load balancer's idle timeout should be shorter
# In production gunicorn's own lines (start, workers booted or lost) are JSON lines too; the app
# adds its handler to the root logger itself (marketplace/logs.py), so gunicorn gives root none.
_json = os.environ.get("LOG_FORMAT") == "json" or (
    os.environ.get("APP_ENV") == "production" and os.environ.get("LOG_FORMAT") in (None, "")
)
# The app logs each request itself then (one line of JSON, no callback secret in a path);
# otherwise, development, gunicorn's access log.
accesslog = None if _json else "-"
if _json:
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},
        "formatters": {"json": {"()": "marketplace.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json"},
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }


# Metrics: every process counts its requests in files of one directory, and /metrics, whichever
# process serves it, adds them up (prometheus-client's multiprocess mode). The directory is new for
# each start of the server, or PROMETHEUS_MULTIPROC_DIR emptied at start.
_made_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ujuzi-metrics-")


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.unlink(os.path.join(directory, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
