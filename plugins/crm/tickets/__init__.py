"""The CRM's tickets: service requests with their conversation, and service level policies."""
