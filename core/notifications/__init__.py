"""Notifications: each user's inbox, how each kind reaches them (inbox, e-mail, daily digest), the bell."""
