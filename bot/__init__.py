"""Trợ lý Tư pháp: the core (no import from webhooks/)."""
