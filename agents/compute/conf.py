"""[compute]: options of the compute agent (hypervisor, instance files, image cache)."""

from __future__ import annotations

from oslo_config import cfg

import common.conf

GROUP = "compute"

OPTS = [
    cfg.StrOpt("instances_path", default="/var/lib/stratus/instances",
               help="Directory holding one sub-directory per instance (root disk overlay, "
                    "config drive, console log) and the image cache (_base). The QEMU "
                    "user must be able to traverse it, so keep it out of 0700 trees."),
    cfg.StrOpt("virt_type", default="kvm", choices=[
                   ("kvm", "hardware acceleration (real hosts with working /dev/kvm)"),
                   ("qemu", "QEMU TCG emulation: slow, but works without KVM "
                            "(CI, nested or PVM hosts where KVM guests hang)")],
               help="libvirt domain type of the guests this host runs."),
    cfg.StrOpt("libvirt_uri", default="qemu:///system",
               help="libvirt connection URI of the local hypervisor."),
    cfg.StrOpt("machine_type", default="pc",
               help="QEMU machine type. 'pc' (i440fx) because the config drive is an IDE "
                    "cdrom there; q35 has only SATA, which kernels without AHCI cannot read."),
    cfg.StrOpt("cpu_mode", default="none",
               choices=["none", "host-model", "host-passthrough"],
               help="Guest CPU model. 'none' lets libvirt pick its default (the only choice "
                    "that works with virt_type=qemu); host-model suits kvm hosts."),
    cfg.IntOpt("shutdown_timeout", default=60, min=0, max=3600,
               help="Seconds a graceful power off (ACPI power button) may take before the "
                    "guest is forced off. 0: always force at once."),
    cfg.IntOpt("shutdown_retry_interval", default=10, min=1, max=600,
               help="Seconds between ACPI power button presses during a graceful power off: "
                    "a guest still booting may miss the first press."),
    cfg.StrOpt("config_drive_bus", default="ide", choices=[
                   ("ide", "read-only IDE cdrom (needs machine_type pc)"),
                   ("virtio", "read-only virtio disk (any machine type)")],
               help="How the config drive is attached to the guest."),
    cfg.StrOpt("mkisofs", default=None,
               choices=["xorriso", "genisoimage"],
               help="Tool that builds config drive ISO images; unset: the first one found."),
    cfg.BoolOpt("nic_offloads", default=False,
                help="Keep virtio-net checksum/segmentation offloads (and vhost). False turns "
                     "them off on both host and guest side: needed with the OVS userspace "
                     "(netdev) datapath, where partial checksums arrive corrupted."),
    cfg.IntOpt("vif_plugging_timeout", default=60, min=0, max=3600,
               help="Seconds a new guest waits, started paused, for the network agent to "
                    "wire its ports (the ports turn ACTIVE) before it runs, so its first "
                    "DHCP request is answered (Nova waits for network-vif-plugged). 0: "
                    "start at once."),
    cfg.BoolOpt("vif_plugging_is_fatal", default=False,
                help="Fail the build when the ports are not wired within "
                     "vif_plugging_timeout. False: start the guest anyway (it keeps "
                     "retrying DHCP) and log a warning."),
    cfg.IntOpt("volume_detach_timeout", default=60, min=1, max=600,
               help="Seconds a running guest may take to release a hot-unplugged volume "
                    "(the guest kernel acknowledges the ACPI unplug) before the detach "
                    "is reported as failed and the volume stays attached."),
    cfg.IntOpt("interface_detach_timeout", default=30, min=1, max=600,
               help="Seconds a running guest may take to release a hot-unplugged NIC "
                    "(the guest kernel acknowledges the ACPI unplug) before the detach "
                    "is reported as failed."),
    cfg.StrOpt("vnc_listen", default="127.0.0.1",
               help="Address the guests' VNC servers listen on (autoport). Keep it local: "
                    "the console proxy on this host reaches it."),
    cfg.BoolOpt("vnc_enabled", default=True, help="Give every guest a VNC display."),
    cfg.StrOpt("image_cache_subdirectory_name", default="_base",
               help="Sub-directory of instances_path holding cached base images."),
    cfg.BoolOpt("remove_unused_base_images", default=True,
                help="Let the image cache cleanup delete base images no instance uses."),
    cfg.IntOpt("remove_unused_original_minimum_age_seconds", default=86400, min=0,
               help="A base image unused for less than this many seconds is kept (the next "
                    "boot of the same image is then fast)."),
    cfg.IntOpt("image_cache_manager_interval", default=2400, min=-1,
               help="Seconds between image cache cleanups; -1 disables them."),
    cfg.IntOpt("image_download_timeout", default=3600, min=1,
               help="Seconds one base image download may take; a slower one is abandoned "
                    "and the partial file removed."),
    cfg.BoolOpt("force_config_drive", default=True,
                help="Give every instance a config drive, asked for or not: a guest without "
                     "network (or before its DHCP answers) still learns its identity, keys "
                     "and user data from it."),
    cfg.StrOpt("serial_port_range", default="10000:20000", regex=r"^\d{1,5}:\d{1,5}$",
               help="MIN:MAX local TCP ports for the guests' serial consoles. Each guest "
                    "keeps its port for life (read back from its domain), so the console "
                    "proxy can connect and the console log keeps working."),
    cfg.StrOpt("serial_listen", default="127.0.0.1",
               help="Address the guests' serial console TCP ports listen on. Keep it "
                    "local: the console proxy on this host connects to it."),
    cfg.StrOpt("console_host", default=None,
               help="Address the console proxy uses to reach this host's VNC and serial "
                    "ports. Unset: vnc_listen/serial_listen, or host_ip when those listen "
                    "on every address."),
    cfg.StrOpt("host_ip", default=None, sample_default="<this host's address>",
               help="This host's address as the controller reports it (hypervisor "
                    "host_ip). Unset: the address the host name resolves to, else the first "
                    "global IPv4 address."),
    cfg.IntOpt("resource_report_interval", default=60, min=1,
               help="Seconds between reports of this host's capacity to the conductor."),
    cfg.IntOpt("sync_power_state_interval", default=600, min=-1,
               help="Seconds between reports of every guest's power state (the conductor "
                    "reconciles the database); -1 disables them."),
    cfg.FloatOpt("cpu_allocation_ratio", default=16.0, min=0.0,
                 help="vCPUs the scheduler may place per physical CPU of this host "
                      "(Nova's initial default, 16)."),
    cfg.FloatOpt("ram_allocation_ratio", default=1.5, min=0.0,
                 help="Guest memory the scheduler may place per MiB of this host's RAM "
                      "(Nova's initial default, 1.5; use 1.0 where the host also runs "
                      "the control plane, as the all-in-one does)."),
    cfg.FloatOpt("disk_allocation_ratio", default=1.0, min=0.0,
                 help="Root disk GiB the scheduler may place per GiB of the instances "
                      "filesystem (qcow2 overlays only use what guests write)."),
    cfg.IntOpt("reserved_host_memory_mb", default=512, min=0,
               help="MiB of RAM kept for the host itself (never given to guests)."),
    cfg.IntOpt("reserved_host_disk_gb", default=0, min=0,
               help="GiB of the instances filesystem kept for the host itself."),
]


def register(conf: cfg.ConfigOpts) -> None:
    """Register [compute] on conf."""
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Every option the compute agent reads (for the generated sample config)."""
    return list(common.conf.list_opts()) + [(GROUP, OPTS)]


def serial_port_range(conf: cfg.ConfigOpts) -> tuple[int, int]:
    """([compute] serial_port_range) as (first, last), both included.

    :raises ValueError: the range is empty or outside 1..65535.
    """
    first, last = (int(part) for part in conf.compute.serial_port_range.split(":"))
    if not 1 <= first <= last <= 65535:
        raise ValueError(f"[compute] serial_port_range {conf.compute.serial_port_range!r} "
                         "must be MIN:MAX with 1 <= MIN <= MAX <= 65535")
    return first, last


def make(argv: list[str] | None = None, program: str = "stratus-compute-agent",
         overrides: dict[str, object] | None = None,
         cli_opts: list[cfg.Opt] | None = None,
         default_overrides: dict[str, object] | None = None) -> cfg.ConfigOpts:
    """A parsed ConfigOpts for the agent (argv None: defaults only, for tests).

    overrides: [compute] option values set on top of the files, for tests;
    default_overrides: the same for [DEFAULT] (e.g. host).
    """
    return common.conf.build([register], argv, program,
                             {GROUP: dict(overrides or {}),
                              "DEFAULT": dict(default_overrides or {})}, cli_opts)
