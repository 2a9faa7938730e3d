"""[conductor]: workflow timeouts and the periodic reconciliation (the topic is in common.conf).

The conductor's periodic task is what guarantees that no instance stays in a transient
state forever: a build on a host that died, a scheduling that never finished, a task the
agent never answered. The timeouts below say how long it waits before stepping in.
"""

from oslo_config import cfg

OPTS = [
    cfg.IntOpt("periodic_interval", default=30, min=1,
               help="Seconds between two runs of the conductor's reconciliation (a random "
                    "jitter of up to 10% is added so several conductors spread out)."),
    cfg.IntOpt("build_timeout", default=600, min=1,
               help="Seconds an instance may stay in task_state scheduling without a host "
                    "before it is put in ERROR."),
    cfg.IntOpt("task_timeout", default=1800, min=1,
               help="Seconds a task_state may stay unchanged on a host whose compute "
                    "service is up before the conductor asks the agent again (once), then "
                    "clears the task with a fault."),
    cfg.IntOpt("deleted_instance_memory", default=7 * 24 * 3600, min=0,
               help="Seconds a deleted instance is still reported to its host's compute "
                    "agent, so an agent that was down during the delete removes the domain "
                    "when it comes back."),
    cfg.IntOpt("volume_create_timeout", default=600, min=1,
               help="Seconds a build waits for a volume it created (boot from volume) to "
                    "become available before the build fails; the copy of a large image "
                    "into the volume is what takes time."),
    cfg.FloatOpt("volume_poll_interval", default=1.0, min=0.05,
                 help="Seconds between two looks at a volume the build waits for."),
    cfg.IntOpt("volume_attach_timeout", default=120, min=1,
               help="Seconds the conductor waits for a compute agent to hot-plug or "
                    "hot-unplug a volume (a guest must release a disk being detached)."),
    cfg.IntOpt("periodic_batch_size", default=200, min=1,
               help="Most instances one reconciliation pass handles per rule; the rest "
                    "wait for the next pass."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="conductor")


def list_opts():
    return [("conductor", OPTS)]
