"""Web blueprints: the JSON API, mentor pages, officers' pages and the funder dashboard."""
