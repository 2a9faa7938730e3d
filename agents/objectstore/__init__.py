"""The object-storage node: account, container and object servers on local disks,
plus the replicator, auditor, updater and expirer daemons that keep the replicas
whole. Agents never import the controller; ring and wire helpers come from common/.
"""
