"""The CRM's campaigns: segments, campaigns sent by email in batches, and unsubscribing."""
