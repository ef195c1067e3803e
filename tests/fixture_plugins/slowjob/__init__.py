"""A fixture module with a slow, idempotent job kind and a schedule every two seconds (the several-hosts test)."""
