"""A module that registers what belongs to others: the namespace tests refuse it."""
