"""HTTP clients daemons use to reach other Stratus services as the service user.

- ``identity``: a project-scoped service token by password (``[service_auth]``), cached
  until shortly before it expires, and endpoints from its catalog;
- ``image``: image data streamed down (base images) and up (snapshots).

Every failure becomes :class:`common.clients.errors.ServiceError` (HTTP status and the
service's own message), raised ``from`` the underlying ``requests`` error.
"""
