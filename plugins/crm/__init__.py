"""CRM: leads, pipeline, activities, service tickets and campaigns — Kontor's front office."""
