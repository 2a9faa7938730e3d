from __future__ import annotations

import datetime

import pytest

from controller.identity.revision import RevisionCache
from controller.identity.revocations import Event, matches
from controller.identity.tokens import Claims

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, 123456)


def _claims(**kw) -> Claims:
    values = dict(user_id="u", methods=("password",), project_id="p", domain_id=None,
                  expires_at=NOW + datetime.timedelta(hours=1), issued_at=NOW,
                  audit_ids=("a1",), app_cred_id=None)
    values.update(kw)
    return Claims(**values)


def test_claims_round_trip_keeps_microseconds():
    claims = _claims(audit_ids=("a1", "parent"), app_cred_id="c")
    decoded = Claims.decode(claims.encode())
    assert decoded == claims.__class__(**{**claims.__dict__,
                                          "expires_at": NOW.replace(microsecond=0)
                                          + datetime.timedelta(hours=1)})


def test_unknown_payload_version_is_rejected():
    raw = _claims().encode().replace(b"[1,", b"[9,", 1)
    with pytest.raises(ValueError):
        Claims.decode(raw)


@pytest.mark.parametrize(("event", "revoked"), [
    (Event("a1", None, None, NOW), True),
    (Event("other", None, None, NOW), False),
    (Event(None, "u", None, NOW), True),
    (Event(None, "u", "p", NOW), True),
    (Event(None, "u", "other", NOW), False),
    (Event(None, "u", None, NOW - datetime.timedelta(microseconds=1)), False),
])
def test_revocation_matching(event, revoked):
    assert matches(event, audit_ids=["a1"], user_id="u", project_id="p",
                   issued_at=NOW) is revoked


def test_revision_cache_drops_everything_when_revision_moves():
    cache = RevisionCache(maxsize=2)
    cache.sync(1)
    cache.put("a", 1, 1)
    cache.put("b", 2, 1)
    cache.put("c", 3, 1)
    assert cache.get("a") is None and cache.get("c") == 3
    cache.put("late", 9, 0)  # computed at an older revision: not stored
    assert cache.get("late") is None
    cache.sync(2)
    assert cache.get("c") is None
