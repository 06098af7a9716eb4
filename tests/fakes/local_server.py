"""Serving a fake on 127.0.0.1 in a daemon thread, shared by the suite's fake services."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


def serve_in_thread(server: ThreadingHTTPServer, name: str) -> threading.Thread:
    """Start ``server.serve_forever`` in a daemon thread named ``name``."""
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
        name=name,
        daemon=True,
    )
    thread.start()
    return thread


def stop_serving(server: ThreadingHTTPServer, thread: threading.Thread | None) -> None:
    """Stop accepting, release the port and wait (briefly) for the serving thread."""
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout=5)
