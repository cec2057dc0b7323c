"""`python -m marketplace.messages` (`make messages`): see `tool.py`."""

from .tool import main

raise SystemExit(main())
