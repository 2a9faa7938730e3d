"""stratus-console-proxy: noVNC and serial console websockets, authorised by single-use tokens."""
