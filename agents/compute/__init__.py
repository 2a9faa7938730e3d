"""The compute agent's host side: hypervisor driver, disks, config drive, reconciliation.

Layout (each module small, each with one job):

- ``driver``: the hypervisor interface the RPC manager calls; ``fake`` and
  ``libvirt_driver`` implement it (``libvirt_host``: the connection and the one place
  libvirt errors become ``exception`` classes).
- ``power_state``: power states and the allowed transitions, shared by every driver.
- ``model``: the data the manager hands to the driver (instance, flavor, image, ports).
- ``domain_xml``: libvirt domain XML built from data with xml.etree.
- ``imagecache`` / ``configdrive`` / ``paths``: the files an instance owns on this host.
- ``reconcile``: start-up mark-and-sweep of host state against the controller's view.
- ``conf``: the ``[compute]`` options.
- ``libvirt_disk_ops`` / ``disks``: snapshot, resize (confirm, revert) and rebuild;
  ``serial_ports``: each guest's serial console TCP port.
- ``volumes``: volumes as iSCSI network disks (hot-plug, unplug, CHAP secrets), with
  ``libvirt_disk`` (their XML and secrets) and ``block_device`` (a spec's volume).
- ``manager``: the RPC endpoint (``common.rpc.compute``), with ``locks`` (one operation
  per instance at a time) and ``reporter`` (results to the conductor).
- ``sync``: start-up reconciliation and power-state reports; ``daemon``: the
  ``stratus-compute-agent`` loop (heartbeat, inventory, sync, image cache cleanup).

Nothing here imports ``controller``: agents only share ``common``.
"""
