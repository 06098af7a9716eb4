"""The test suite's fake Comprehend endpoint, served from its own process.

In the benchmark's process the fake's threads would compete with the engine's for the GIL,
delaying the moment a request is seen and bunching arrivals together; in its own process it
timestamps requests as a remote service would.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass

from tests.fakes import FakeComprehend, FaultPlan, RequestRecord
from tests.fakes.comprehend_server import max_in_window


def _serve(plan: FaultPlan, connection) -> None:
    with FakeComprehend(plan) as fake:
        connection.send(fake.endpoint_url)
        while True:
            command = connection.recv()
            if command == "records":
                connection.send(
                    Records(list(fake.requests), dict(fake.billed_documents), list(fake.violations))
                )
            elif command == "reset":
                fake.reset_records()
                connection.send(True)
            else:
                return


@dataclass
class Records:
    requests: list[RequestRecord]
    billed_documents: dict[tuple[str, str, str], int]
    violations: list[str]

    def max_requests_in_window(self, operation: str, window_s: float = 1.0) -> int:
        return max_in_window(
            sorted(r.at for r in self.requests if r.operation == operation), window_s
        )


class FakeComprehendProcess:
    """``with FakeComprehendProcess(plan) as fake: fake.endpoint_url; fake.records()``."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan

    def __enter__(self) -> FakeComprehendProcess:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(self.plan, child), daemon=True)
        self._process.start()
        self.endpoint_url = self._connection.recv()
        return self

    def records(self) -> Records:
        self._connection.send("records")
        return self._connection.recv()

    def reset(self) -> None:
        self._connection.send("reset")
        self._connection.recv()

    def __exit__(self, *exc_info) -> None:
        self._connection.send("stop")
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
