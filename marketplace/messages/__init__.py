"""Every text a person reads: the pages, the USSD screens and the SMS, in English and Kiswahili.

`catalogue.py` reads the gettext PO files in `locale/` once and answers `t(key, language, **params)`
from plain dicts; `pages.py`, `ussd.py` and `outbound.py` are the channels' views of it (their keys
without the section prefix). `gsm.py` says what fits in an SMS or a USSD screen. Nothing here
imports Flask, the services or a channel, so every layer may use it.

`make messages` keeps the files in step: the template `messages.pot` from the English, every other
language updated from it, then both checked (same keys, same `{placeholders}`).
"""
