"""The web server's settings: those the USSD benchmark measured (bench/README.md), 2 processes of
8 threads each (gthread) per two cores, keep-alive for the load balancer's connections.

WEB_CONCURRENCY (processes), WEB_THREADS, HOST and PORT override them. Keep WEB_THREADS at or under
DB_POOL_SIZE, so that every thread keeps its own database connection between requests.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
keepalive = 30  # seconds; the load balancer's idle timeout should be shorter
# The app logs each request itself in production (one line of JSON); development gets the access log.
accesslog = "-" if os.environ.get("APP_ENV", "development") != "production" else None
