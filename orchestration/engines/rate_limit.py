"""A request-rate cap shared by the threads of one engine.

Hand-written because neither boto3 nor botocore caps a client's request rate (their retry
modes only back off after throttling). Two rules together:

- a sliding-window log: a request may start only while fewer than ``max_requests`` started
  within the last ``window_s`` seconds (window edges included), so the cap holds over every
  window of that length, not just on average;
- pacing: requests start at least ``window_s / max_requests`` apart, so the traffic is even
  and network jitter cannot bunch a burst of them into one window at the service's side.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self,
        max_requests: int,
        window_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if max_requests < 1:
            raise ValueError("max_requests must be at least 1")
        self.max_requests = max_requests
        self.window_s = window_s
        self.spacing_s = window_s / max_requests
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def _wait_needed(self, now: float) -> float:
        while self._starts and now - self._starts[0] > self.window_s:
            self._starts.popleft()
        waits = []
        if self._starts:
            waits.append(self._starts[-1] + self.spacing_s - now)
        if len(self._starts) >= self.max_requests:
            waits.append(self._starts[0] + self.window_s - now)
        return max(waits, default=0.0)

    def acquire(self) -> None:
        """Block until a request may start, and record its start."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._starts.append(now)
                    return
            self._sleep(max(wait, 0.0005))
