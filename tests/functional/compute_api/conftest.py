"""One real API server for the compute CLI tests (see tests/functional/image)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.image.stratus_cloud import StratusCloud


@pytest.fixture(scope="module")
def stratus_cloud(tmp_path_factory) -> Iterator[StratusCloud]:
    cloud = StratusCloud(tmp_path_factory.mktemp("stratus-compute"))
    try:
        cloud.start()
        yield cloud
    finally:
        cloud.stop()
