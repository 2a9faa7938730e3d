"""Compute service layer: servers, their actions and consoles, server groups, quotas,
compute services and hypervisors; flavors and key pairs."""
