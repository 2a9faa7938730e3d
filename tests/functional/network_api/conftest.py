"""The Network API in-process on SQLite and PostgreSQL, with a recording agent notifier."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from controller.network import notify


class RecordingNotifier:
    """Stands in for the agents' fanout casts: remembers (method, ids)."""

    def __init__(self):
        self.calls: list[tuple[str, list[str]]] = []

    def _record(self, method: str):
        return lambda ctx, ids: self.calls.append((method, list(ids)))

    def __getattr__(self, name: str):
        if name in notify.METHODS:
            return self._record(name)
        raise AttributeError(name)

    def ids(self, method: str) -> set[str]:
        return {i for m, ids in self.calls if m == method for i in ids}

    def clear(self) -> None:
        self.calls.clear()


@dataclasses.dataclass
class Net:
    """Calls /network/v2.0 as a user."""

    cloud: Any
    token: str

    def __call__(self, method: str, path: str, body: Any = None, **query):
        return self.cloud.client.open(f"/network/v2.0{path}", method=method, json=body,
                                      headers={"X-Auth-Token": self.token},
                                      query_string=query or None)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **query):
        response = self(method, path, body, **query)
        assert response.status_code == status, (method, path, response.get_json())
        return response.get_json()

    def error(self, method: str, path: str, body: Any = None, **query) -> tuple[int, str]:
        response = self(method, path, body, **query)
        fault = response.get_json()["NeutronError"]
        assert fault["message"], fault
        return response.status_code, fault["type"]


@pytest.fixture(scope="module")
def recorder(cloud):
    recording = RecordingNotifier()
    setattr(cloud.rt, notify.ATTRIBUTE, recording)
    return recording


@pytest.fixture(scope="module")
def admin(cloud, recorder) -> Net:
    return Net(cloud, cloud.admin())


@pytest.fixture(scope="module")
def demo(cloud, recorder) -> Net:
    return Net(cloud, cloud.demo())
