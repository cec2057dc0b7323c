"""The USSD channel: entrepreneurs on basic phones use menus over the gateway's USSD sessions."""
