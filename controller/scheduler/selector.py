"""select_destinations: filter, weigh and claim, one instance at a time.

Each instance of a request is placed after the previous one was claimed, on host states
that already count it, so capacity and (anti-)affinity hold within the request. A claim
that loses a race re-reads the hosts from SQL and tries again, up to
``[scheduler] claim_retries`` times.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from controller.runtime import Runtime
from controller.scheduler import claims, filters, host_state, spec, weighers
from controller.scheduler.host_state import HostState

LOG = logging.getLogger(__name__)

NO_VALID_HOST = "No valid host was found."


class Selector:
    """Host selection with the filters and weighers the configuration names."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.conf = rt.conf
        self.filters = filters.load(list(rt.conf.scheduler.enabled_filters))
        self.weighers = [cls() for cls in weighers.ALL]

    def select_destinations(self, request_spec: dict[str, Any], instance_uuids: list[str],
                            exclude_hosts: list[str] | None = None,
                            move_from: str | None = None) -> dict[str, Any]:
        """See ``controller.scheduler.rpcapi.SchedulerAPI.select_destinations``.

        :raises ValueError: request_spec has no usable flavor.
        """
        request = spec.build(self.rt, request_spec, instance_uuids)
        exclude = frozenset(exclude_hosts or ())
        for instance_uuid in instance_uuids:
            self._prepare(instance_uuid, move_from)
        hosts = host_state.load(self.rt)
        selections: list[dict[str, Any]] = []
        failed: dict[str, str] = {}
        for instance_uuid in instance_uuids:
            placed, hosts = self._place(request, instance_uuid, exclude, hosts)
            if isinstance(placed, str):
                LOG.warning("Instance %s: %s", instance_uuid, placed)
                failed[instance_uuid] = placed
                if move_from:  # the resize cannot go ahead: the old claim comes back
                    claims.move(self.rt, move_from, instance_uuid)
                continue
            LOG.info("Instance %s placed on %s (node %s)", instance_uuid, placed.host,
                     placed.node)
            if request.group is not None:
                request.group.hosts[placed.host] += 1
            selections.append({"instance_uuid": instance_uuid, "host": placed.host,
                               "node": placed.node, "compute_node_id": placed.compute_node_id})
        return {"selections": selections, "failed": failed}

    def _prepare(self, instance_uuid: str, move_from: str | None) -> None:
        """Settle the claims instance_uuid holds before it gets a new one."""
        if not move_from:
            # A build or a reschedule: the instance runs nowhere, any claim is stale.
            claims.release(self.rt, instance_uuid)
        elif claims.allocations(self.rt, move_from):
            # This resize was scheduled before (a reschedule): the migration already
            # holds the source; drop the claim on the destination that failed.
            claims.release(self.rt, instance_uuid)
        else:
            claims.move(self.rt, instance_uuid, move_from)

    def _place(self, request: spec.RequestSpec, consumer: str, exclude: frozenset[str],
               hosts: list[HostState]) -> tuple[HostState | str, list[HostState]]:
        """Claim a host for consumer: (the host, or why there is none; current hosts)."""
        wanted = request.resources
        retries = self.conf.scheduler.claim_retries
        for attempt in range(1, retries + 1):
            if attempt > 1:
                time.sleep(random.uniform(0, 0.02 * attempt))  # let the racers spread out
                hosts = host_state.load(self.rt)
            candidates, reason = self._candidates(hosts, request, exclude)
            if reason:
                return reason, hosts
            passed, reason = self._filter(candidates, request, consumer)
            if reason:
                return reason, hosts
            for host in self._ranked(passed, request):
                try:
                    generation = claims.claim(
                        self.rt, host.compute_node_id, consumer, request.project_id,
                        wanted.vcpus, wanted.memory_mb, wanted.disk_gb)
                except claims.InsufficientResources as error:
                    LOG.info("Claim for %s on %s refused: %s", consumer, host.host, error)
                    continue
                except claims.ClaimConflict as error:
                    LOG.info("Claim for %s on %s lost a race (%s); attempt %d of %d",
                             consumer, host.host, error, attempt, retries)
                    break
                host.consume(wanted)
                host.generation = generation
                return host, hosts
        return (f"{NO_VALID_HOST} Claims kept conflicting with other schedulers or the "
                f"hosts filled up ({retries} attempts); try again."), hosts

    def _candidates(self, hosts: list[HostState], request: spec.RequestSpec,
                    exclude: frozenset[str]) -> tuple[list[HostState], str | None]:
        if not hosts:
            return [], (f"{NO_VALID_HOST} There are no compute hosts: no "
                        f"{host_state.COMPUTE_BINARY} has reported its inventory.")
        candidates = hosts
        if request.force_hosts:
            candidates = [h for h in candidates if h.host in request.force_hosts]
            if not candidates:
                return [], (f"{NO_VALID_HOST} The requested host(s) "
                            f"{', '.join(sorted(request.force_hosts))} are not compute hosts.")
        if exclude:
            left = [h for h in candidates if h.host not in exclude]
            if not left:
                return [], (f"{NO_VALID_HOST} Every candidate host was already tried: "
                            f"{', '.join(sorted(h.host for h in candidates))}.")
            candidates = left
        return candidates, None

    def _filter(self, hosts: list[HostState], request: spec.RequestSpec,
                consumer: str) -> tuple[list[HostState], str | None]:
        trail = [f"{len(hosts)} candidates"]
        for host_filter in self.filters:
            before = len(hosts)
            hosts = [h for h in hosts if host_filter.host_passes(h, request)]
            trail.append(f"{host_filter.name} {len(hosts)}")
            if not hosts:
                LOG.info("Filters for %s: %s", consumer, ", ".join(trail))
                return [], (f"{NO_VALID_HOST} There are not enough hosts available: "
                            f"{host_filter.name} left 0 of {before} hosts "
                            f"{host_filter.describe(request)}".rstrip())
        LOG.info("Filters for %s: %s", consumer, ", ".join(trail))
        return hosts, None

    def _ranked(self, hosts: list[HostState], request: spec.RequestSpec) -> list[HostState]:
        """Best first; the first host_subset_size are shuffled so that concurrent
        schedulers do not all go for the same host."""
        ranked = [host for _, host in weighers.order(self.conf, hosts, request,
                                                     self.weighers)]
        size = self.conf.scheduler.host_subset_size
        subset = ranked[:size]
        random.shuffle(subset)
        return subset + ranked[size:]
