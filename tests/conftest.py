"""Test-suite wide configuration: the hypothesis profiles, the garbage collector, and logging hygiene.

The integration fixtures (broker, workers, browser, alert receivers) live in tests/integration/conftest.py.
"""

import gc
import logging
from collections.abc import Generator, Iterator

import pytest
from hypothesis import HealthCheck, settings

# "fast" (the default) keeps the unit layer in seconds and cannot flake: the same well-spread examples on
# every run (derandomize), no per-example deadline and no too-slow health check, so a loaded machine only
# makes it slower. "suite" (`make test`, so CI) takes more of them, as derandomized. "thorough" explores:
# many more fresh random examples each run, e.g.
#   pytest tests/unit --hypothesis-profile=thorough
# a failure there prints the @reproduce_failure blob to replay it.
_PATIENT = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("fast", max_examples=40, derandomize=True, database=None, **_PATIENT)
settings.register_profile("suite", max_examples=150, derandomize=True, database=None, **_PATIENT)
settings.register_profile("thorough", max_examples=2000, **_PATIENT)
settings.load_profile("fast")


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    """Collect without the garbage collector, then freeze what was collected out of its reach.

    The modules, strategies and test items collected live as long as the run, yet each full collection the
    tests' allocations set off traversed their ~200,000 objects again: about 3 s of the 19 `pytest tests/unit` took.
    """
    gc.disable()
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """Tests that attach handlers must not leak them into the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
