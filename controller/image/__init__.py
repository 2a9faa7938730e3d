"""The image service (Glance-compatible Image v2): records, members, tags and data.

Functions here take a Runtime and a RequestContext and never see HTTP; the API
blueprint in controller/api/image, RPC managers and tests all call the same ones.
"""
