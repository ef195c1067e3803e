"""Large exports as jobs: a list's CSV or XLSX of many rows is written by a worker and downloaded later."""
