"""Local stand-ins for external services, used by the test suite."""

from tests.fakes.comprehend_server import FakeComprehend, FaultPlan, RequestRecord

__all__ = ["FakeComprehend", "FaultPlan", "RequestRecord"]
