"""Running Kontor under gunicorn, configured from code."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class KontorServer(BaseApplication):
    """gunicorn serving :func:`core.wsgi.application` (each worker builds its own dispatcher)."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from core.wsgi import application

        return application


def _post_fork(_server, _worker) -> None:
    # A connection opened before the fork must never be shared by two workers.
    from core.db import dispose_engines

    dispose_engines(close=False)


def serve(bind: str = "127.0.0.1:8000", workers: int = 2, **options) -> None:
    """Serve with ``workers`` gunicorn processes on ``bind`` until stopped."""
    KontorServer({"bind": bind, "workers": workers, "accesslog": "-", "preload_app": False,
                  "post_fork": _post_fork, **options}).run()
