"""A fixture plugin with one per-company model, for the tests of the company scope."""
