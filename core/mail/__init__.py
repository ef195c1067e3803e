"""Outgoing mail: one SMTP configuration for the group, every message recorded, sent by jobs."""
