"""gunicorn settings for the SEND Professional Portal (see DEPLOY.md).

Run: gunicorn --config gunicorn.conf.py app:app
Every setting can be overridden from the environment named beside it."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Workers share nothing but the database: sessions are signed cookies.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Bounded request sizes: a form post never needs more (file uploads have their own limit).
limit_request_line = 8190
limit_request_fields = 100
# The app logs each request itself, without query strings or personal data;
# gunicorn's own access log would print the query (a child's name in ?q=).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Behind a load balancer that terminates TLS, trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = False
