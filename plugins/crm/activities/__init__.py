"""The CRM's activities: calls, meetings and tasks with reminders, and the timeline of a record."""
