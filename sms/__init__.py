"""The phone channels: USSD menus, SMS commands, and the SMS gateway."""
