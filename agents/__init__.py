"""Per-host Stratus daemons (they never import the controller)."""
