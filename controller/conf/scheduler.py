"""[scheduler]: how hosts are filtered, weighed and claimed (the topic is in services.py).

The conductor reads ``max_attempts`` too, so this group is in its sample config.
"""

from oslo_config import cfg

DEFAULT_FILTERS = [
    "ComputeFilter",
    "AvailabilityZoneFilter",
    "RamFilter",
    "CoreFilter",
    "DiskFilter",
    "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter",
]

OPTS = [
    cfg.ListOpt("enabled_filters", default=DEFAULT_FILTERS,
                help="Filters a host must pass, applied in this order. Known filters: "
                     + ", ".join(DEFAULT_FILTERS) + "."),
    cfg.FloatOpt("ram_weight_multiplier", default=1.0,
                 help="Positive spreads instances over the hosts with the most free RAM; "
                      "negative stacks them on the fullest host that still fits."),
    cfg.FloatOpt("soft_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="How strongly a soft-affinity server group pulls its members onto "
                      "the hosts that already run members."),
    cfg.FloatOpt("soft_anti_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="How strongly a soft-anti-affinity server group pushes its members "
                      "away from hosts that already run members."),
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="Hosts the conductor tries for one build before the instance goes to "
                    "ERROR (the first attempt included)."),
    cfg.IntOpt("host_subset_size", default=1, min=1,
               help="Pick at random among this many best-weighed hosts, so concurrent "
                    "schedulers collide less on the same host."),
    cfg.IntOpt("claim_retries", default=10, min=1, max=100,
               help="How many times one instance's placement re-reads the hosts and tries "
                    "again when another scheduler claimed on the same host first."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="scheduler")


def list_opts():
    return [("scheduler", OPTS)]
