"""stratus-scheduler: picks hosts for instances and volumes."""
