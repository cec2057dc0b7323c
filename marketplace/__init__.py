"""Ujuzi: training vouchers for small businesses, redeemed over USSD, SMS and the web."""
