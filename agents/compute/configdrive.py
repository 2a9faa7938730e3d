"""Config drive: an ISO9660 image labelled ``config-2`` with the instance's metadata.

Layout (what cloud-init and the Stratus test guest read), under both
``openstack/latest/`` and ``openstack/2012-08-10/``:

- ``meta_data.json``: uuid, name, hostname, availability_zone, project_id,
  public_keys {name: key}, keys, meta, launch_index, devices, random_seed;
- ``user_data`` (only when the instance has user data);
- ``network_data.json``: links, networks and services for the instance's ports.

The tree is computed by pure functions (tested without tools); ``write_iso`` stages it
in a private directory and runs ``xorriso``/``genisoimage`` with an argv list.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping

from agents.compute.exception import ConfigDriveError
from agents.compute.model import Instance
from common import processutils

VOLUME_LABEL = "config-2"
VERSIONS = ("latest", "2012-08-10")
TOOLS = ("xorriso", "genisoimage")


def hostname_for(instance: Instance) -> str:
    """The guest's hostname: the one given, else the display name made DNS-safe."""
    if instance.hostname:
        return instance.hostname
    name = re.sub(r"[^a-z0-9-]+", "-", instance.name.lower()).strip("-")[:63].strip("-")
    return name or f"instance-{instance.uuid[:8]}"


def meta_data(instance: Instance, random_seed: bytes | None = None) -> dict:
    """The ``meta_data.json`` document (OpenStack metadata format)."""
    keys = dict(instance.public_keys)
    return {
        "uuid": instance.uuid,
        "name": instance.name,
        "hostname": hostname_for(instance),
        "availability_zone": instance.availability_zone,
        "project_id": instance.project_id,
        "launch_index": instance.launch_index,
        "public_keys": keys,
        "keys": [{"name": name, "type": "ssh", "data": key} for name, key in keys.items()],
        "meta": dict(instance.metadata),
        "devices": [],
        # Guests that boot with an empty entropy pool seed it from here.
        "random_seed": base64.b64encode(random_seed if random_seed is not None
                                        else os.urandom(512)).decode(),
    }


def network_data(instance: Instance) -> dict:
    """The ``network_data.json`` document: the one the conductor sent (the metadata
    service's, with the ports' fixed IPs), else one DHCP-configured link per port."""
    if instance.network_data is not None:
        return dict(instance.network_data)
    links, networks = [], []
    for index, vif in enumerate(instance.vifs):
        link = {"id": vif.devname, "vif_id": vif.id, "type": vif.type,
                "ethernet_mac_address": vif.mac}
        if vif.mtu:
            link["mtu"] = vif.mtu
        links.append(link)
        network = {"id": f"network{index}", "link": vif.devname, "type": "ipv4_dhcp"}
        if vif.network_id:
            network["network_id"] = vif.network_id
        networks.append(network)
    return {"links": links, "networks": networks, "services": []}


def files(instance: Instance, random_seed: bytes | None = None) -> dict[str, bytes]:
    """Relative path -> content of every file on the config drive."""
    md = _dump(meta_data(instance, random_seed))
    nd = _dump(network_data(instance))
    tree: dict[str, bytes] = {}
    for version in VERSIONS:
        tree[f"openstack/{version}/meta_data.json"] = md
        tree[f"openstack/{version}/network_data.json"] = nd
        if instance.user_data:
            tree[f"openstack/{version}/user_data"] = instance.user_data
    return tree


def find_tool(preferred: str | None = None) -> str:
    """The ISO tool to run: preferred if given, else the first of TOOLS installed.

    :raises ConfigDriveError: none is installed.
    """
    for tool in ([preferred] if preferred else TOOLS):
        if shutil.which(tool):
            return tool
    raise ConfigDriveError(f"cannot build config drives: install {preferred or ' or '.join(TOOLS)} "
                           "(apt-get install xorriso)")


def iso_argv(tool: str, source_dir: str, output: str) -> list[str]:
    """argv building an ISO9660 (+Rock Ridge, Joliet) image labelled config-2."""
    if tool == "xorriso":
        return ["xorriso", "-as", "mkisofs", "-quiet", "-V", VOLUME_LABEL, "-r", "-J",
                "-o", output, source_dir]
    if tool == "genisoimage":
        return ["genisoimage", "-quiet", "-V", VOLUME_LABEL, "-r", "-J", "-l", "-ldots",
                "-allow-lowercase", "-allow-multidot", "-input-charset", "utf-8",
                "-o", output, source_dir]
    raise ConfigDriveError(f"unknown ISO tool {tool!r}; use one of {', '.join(TOOLS)}")


def write_iso(tree: Mapping[str, bytes], output: str, *, tool: str | None = None,
              execute: Callable[..., str] = processutils.execute) -> str:
    """Write tree as an ISO image at output (atomically replaced); return output.

    :raises ConfigDriveError: a path in tree escapes the drive, or the tool failed.
    """
    tool = find_tool(tool)
    directory = os.path.dirname(os.path.abspath(output))
    # The staging copy holds user data: a 0700 directory next to the output.
    with tempfile.TemporaryDirectory(prefix=".configdrive-", dir=directory) as staging:
        root = os.path.join(staging, "root")
        for relpath, content in tree.items():
            target = os.path.normpath(os.path.join(root, relpath))
            if not target.startswith(root + os.sep) or os.path.isabs(relpath):
                raise ConfigDriveError(f"config drive path {relpath!r} leaves the drive")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(content)
        partial = os.path.join(staging, "drive.iso")
        try:
            execute(iso_argv(tool, root, partial))
        except processutils.ProcessExecutionError as exc:
            raise ConfigDriveError(f"{tool} could not build the config drive: {exc}") from exc
        os.chmod(partial, 0o600)
        os.replace(partial, output)
    return output


def build(instance: Instance, output: str, *, tool: str | None = None,
          execute: Callable[..., str] = processutils.execute) -> str:
    """Write instance's config drive to output; return output.

    :raises ConfigDriveError: no ISO tool, or it failed.
    """
    return write_iso(files(instance), output, tool=tool, execute=execute)


def _dump(document: dict) -> bytes:
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"
