"""Wire-level pieces the object proxy and the storage nodes share.

Timestamps, HTTP Range handling, a keep-alive HTTP client pool, the small WSGI
request/response helpers and the gunicorn runner. Nothing here knows about
accounts, ACLs or disks.
"""
