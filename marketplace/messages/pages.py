"""The web pages' words: each page set's section of the catalogue with the words all pages share.

Templates call `_('key', name=...)`, bound by each blueprint to its scope and the page's language.
"""

from __future__ import annotations

from .catalogue import Scope

# Words on every page set (sign out, the language switch, session states).
SHARED = "web"

admin = Scope(SHARED, "admin")  # the programme officers' pages
mentor = Scope(SHARED, "mentor")  # the mentor pages
phone = Scope(SHARED, "phone")  # the phone simulator
signin = Scope(SHARED, "signin")  # the staff sign-in page
errors = Scope(SHARED, "errors")  # the error pages of every page set
funder = Scope(SHARED, "funder")  # the funder dashboard
front = Scope(SHARED, "front")  # the front door, `/`
