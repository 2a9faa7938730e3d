"""The volume agent: volume backends and iSCSI exports of one host (stratus-volume-agent)."""

# First: common.messaging silences the eventlet deprecation warning oslo.messaging's
# import would print, and this package's modules import oslo_messaging directly.
from common import messaging as _messaging  # noqa: F401
