"""benchjobs: the job kinds bench/jobs.py measures (loaded with KONTOR_PLUGINS=benchjobs.plugin and bench/ on PYTHONPATH)."""
