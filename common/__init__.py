"""Code shared by the Stratus controller and its agents (never imports either)."""
