"""Paying providers: the payment channel interface (`gateway.py`), its backends (`backends.py`
picks one by name: console, fake, csv, mpesa), the M-Pesa backend (`mpesa.py`, the only module
that speaks Daraja), the sender and reconciler (`sender.py`) and the channel's callbacks
(`routes.py`)."""
