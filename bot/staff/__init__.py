"""Staff of the dashboard (issue 11): accounts and passwords, sign-in sessions with their
throttling and CSRF secret, the audit log's entries, and the overview's figures.

The store keeps the rows (`bot/store/staff.py`, `bot/store/stats.py`); this package holds the
policies; the edge (`webhooks/admin/`) renders pages and sets cookies.
"""
