"""GET /info: what this cluster supports, in Swift's format (clients read it to
decide e.g. whether to upload large files as SLOs or delete in bulk)."""

from __future__ import annotations

import json

from oslo_config import cfg

from controller.objectproxy import constraints


def info(conf: cfg.ConfigOpts) -> bytes:
    opts = conf.object_proxy
    doc = {
        "swift": {
            "version": "2.38.0",
            "max_file_size": opts.max_file_size,
            "max_meta_name_length": constraints.MAX_META_NAME_LENGTH,
            "max_meta_value_length": constraints.MAX_META_VALUE_LENGTH,
            "max_meta_count": constraints.MAX_META_COUNT,
            "max_meta_overall_size": constraints.MAX_META_OVERALL_SIZE,
            "max_header_size": constraints.MAX_HEADER_SIZE,
            "max_object_name_length": constraints.MAX_OBJECT_NAME_LENGTH,
            "max_container_name_length": constraints.MAX_CONTAINER_NAME_LENGTH,
            "max_account_name_length": constraints.MAX_ACCOUNT_NAME_LENGTH,
            "container_listing_limit": opts.container_listing_limit,
            "account_listing_limit": opts.container_listing_limit,
            "extra_header_count": constraints.EXTRA_HEADER_COUNT,
            "valid_api_versions": ["v1", "v1.0"],
            "strict_cors_mode": True,
            "allow_account_management": False,
            "account_autocreate": opts.account_autocreate,
            "policies": [{"name": "Policy-0", "aliases": "Policy-0", "default": True}],
        },
        "slo": {
            "max_manifest_segments": opts.slo_max_manifest_segments,
            "max_manifest_size": opts.slo_max_manifest_size,
            "min_segment_size": opts.slo_min_segment_size,
            "yield_frequency": 10,
            "allow_async_delete": False,
        },
        "dlo": {"max_segments": opts.dlo_max_segments},
        "tempurl": {
            "methods": list(opts.tempurl_methods),
            "allowed_digests": list(opts.tempurl_digests),
            "incoming_remove_headers": ["x-timestamp"],
            "incoming_allow_headers": [],
            "outgoing_remove_headers": ["x-object-meta-*"],
            "outgoing_allow_headers": ["x-object-meta-public-*"],
        },
        "bulk_delete": {"max_deletes_per_request": opts.bulk_max_deletes,
                        "max_failed_deletes": 1000},
        "keystoneauth": {},
    }
    return json.dumps(doc).encode()
