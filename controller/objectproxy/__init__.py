"""stratus-object-proxy: the stateless Object Storage v1 (Swift) API.

It authenticates identity tokens (or TempURL signatures), looks names up in the
rings, writes every replica and answers on a quorum, reads from any healthy
replica, and streams bodies in chunks. It imports only common/, never the rest of
the controller, so it can run on its own hosts.
"""
