"""Identity v3: the service layer behind the Keystone-compatible API."""
