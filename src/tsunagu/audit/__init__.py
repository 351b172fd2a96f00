"""Audit: an append-only record of who did what to whom (logins, views of a resident, searches, exports, writes)."""
