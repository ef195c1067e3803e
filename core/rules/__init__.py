"""Rules: the core's one safe rule language (rule-engine, exact decimals), lookup tables and the rule editor."""
