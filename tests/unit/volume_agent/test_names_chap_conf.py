"""Owner naming and validation, CHAP derivation, and the backend configuration."""

from __future__ import annotations

import os
import stat

import pytest

from agents.volume import conf as volume_conf
from agents.volume import names
from agents.volume.chap import ChapKeys
from agents.volume.exception import InvalidInput
from agents.volume.targets import Connector
from tests.unit.volume_agent.helpers import new_id

PREFIX = "iqn.2026-12.org.stratus:"


def test_names_round_trip():
    volume_id = new_id()
    assert names.owner_of(names.volume_name(volume_id)) == ("volume", volume_id)
    assert names.owner_of(f"snapshot-{volume_id}") == ("snapshot", volume_id)
    assert names.owner_of("volume-not-a-uuid") is None
    iqn = names.target_iqn(PREFIX, volume_id)
    assert iqn == f"{PREFIX}volume-{volume_id}"
    assert names.volume_of_iqn(PREFIX, iqn) == volume_id
    assert names.volume_of_iqn(PREFIX, "iqn.2010-10.org.other:disk") is None
    assert names.canonical_uuid(volume_id.upper()) == volume_id


@pytest.mark.parametrize("bad", ["", "../x", "1", None, 5, "a" * 36])
def test_bad_ids_are_refused(bad):
    with pytest.raises(InvalidInput):
        names.volume_name(bad)


@pytest.mark.parametrize("size", [0, -1, 1.5, "1", True, None, names.MAX_SIZE_GB + 1])
def test_bad_sizes_are_refused(size):
    with pytest.raises(InvalidInput):
        names.size_gb(size)


def test_connectors_are_validated():
    good = Connector.from_dict({"host": "h", "ip": "192.0.2.1",
                                "initiator": "iqn.1993-08.org.debian:01:abc"})
    assert good.ip == "192.0.2.1"
    assert Connector.from_dict({"ip": "2001:db8::1"}).ip == "2001:db8::1"
    for bad in ({"ip": "1.2.3"}, {"ip": "192.0.2.1; rm -rf /"}, {"ip": "1.1.1.1",
                "initiator": "--force"}, "not-a-dict", {"ip": "1.1.1.1", "host": 5}):
        with pytest.raises(InvalidInput):
            Connector.from_dict(bad)


def test_bad_target_prefix_is_refused():
    for bad in ("iqn.2026-12.org.stratus", "volume:", "iqn.2026.org.x:", "iqn.2026-12.org x:"):
        with pytest.raises(InvalidInput):
            names.target_prefix(bad)


def test_chap_credentials_are_stable_per_volume_and_secret(tmp_path):
    key_file = tmp_path / "sub" / "chap.key"
    keys = ChapKeys(str(key_file))
    first, second = new_id(), new_id()
    creds = keys.credentials(first)
    assert creds.username == f"volume-{first}" and len(creds.password) == 24
    assert creds.password.isalnum() and creds.password not in repr(creds)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert ChapKeys(str(key_file)).credentials(first) == creds  # survives a restart
    assert keys.credentials(second).password != creds.password
    other_host = ChapKeys(str(tmp_path / "other.key"))
    assert other_host.credentials(first).password != creds.password


def test_truncated_key_file_is_refused(tmp_path):
    key_file = tmp_path / "chap.key"
    key_file.write_bytes(b"short")
    with pytest.raises(OSError, match="remove it"):
        ChapKeys(str(key_file)).credentials(new_id())


def test_backend_sections_override_volume_defaults(tmp_path):
    config = tmp_path / "agent.conf"
    config.write_text("[volume]\nenabled_backends = fast,slow\nfile_path = /srv/v\n"
                      "target_ip_address = 192.0.2.5\n"
                      "[slow]\nfile_path = /srv/slow\nvolume_backend_name = cheap\n")
    conf = volume_conf.make(["--config-file", str(config)])
    fast, slow = volume_conf.backend(conf, "fast"), volume_conf.backend(conf, "slow")
    assert (fast.file_path, fast.volume_backend_name) == ("/srv/v", "fast")
    assert (slow.file_path, slow.volume_backend_name) == ("/srv/slow", "cheap")
    assert slow.target_ip_address == "192.0.2.5" and slow.target_port == 3260
    for bad in ("volume", "backup", "a b", ""):
        with pytest.raises(ValueError):
            volume_conf.backend(conf, bad)


def test_sample_namespace_lists_every_group():
    groups = {group for group, _ in volume_conf.list_opts()}
    assert {"volume", "backup", "volume_rpc", "messaging"} <= groups
