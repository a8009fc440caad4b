"""Shared fixtures of the unit tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

#: Test modules that drive wasm (or Python) recursion to the stack limit on purpose.
_DEEP = {"test_api", "test_api_conventions", "test_api_host"}


def _paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture
def pause_gc() -> Iterator[None]:
    """For a single deep test elsewhere (``@pytest.mark.usefixtures("pause_gc")``)."""
    yield from _paused()


@pytest.fixture(autouse=True)
def _no_collection_at_depth(request: pytest.FixtureRequest) -> Iterator[None]:
    """No cyclic garbage collection while a test recurses to the stack limit.

    A collection that starts deep in a recursion runs the finalizers of whatever cyclic
    garbage earlier tests left (generators, objects with ``__del__``) at that depth, where
    they hit RecursionError; pytest reports those as unraisable-exception failures of an
    unrelated test (seen in CI: ``test_trap_codes[lazy-deep-...]``). Collecting first and
    pausing the collector for the test keeps that noise out; explicit ``gc.collect()``
    calls (the leak tests) still work."""
    if request.module.__name__.rpartition(".")[2] not in _DEEP:
        yield
        return
    yield from _paused()
