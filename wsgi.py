"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi …"""

import gc

from marketplace.app import create_app

app = create_app()

# What the process made to start (modules, the app, the message catalogues) lives as long as the
# process: moved out of the collector's generations, so that the full collections the requests'
# garbage triggers no longer scan it again each time (bench/README.md, issue 15: before/after).
gc.freeze()
