"""Fixtures for the image functional tests: one real API server per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.image.stratus_cloud import StratusCloud


@pytest.fixture(scope="session")
def stratus_cloud(tmp_path_factory) -> Iterator[StratusCloud]:
    """A running stratus-api (see stratus_cloud.py), stopped at the end of the session."""
    cloud = StratusCloud(tmp_path_factory.mktemp("stratus"))
    try:
        cloud.start()
        yield cloud
    finally:
        cloud.stop()
