"""Background jobs: huey carries them, ``core_job`` keeps the truth (see :mod:`core.jobs.services`)."""
