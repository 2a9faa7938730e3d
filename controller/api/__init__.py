"""The control-plane HTTP API: one Flask app, one blueprint per service."""
