"""Image data stores: a small driver interface chosen by `[image] store_driver`."""

from __future__ import annotations

import threading

from oslo_config import cfg

from controller.image.store.base import (
    DataNotFound,
    StorageFull,
    StorageWriteDenied,
    Store,
    StoredData,
    StoreError,
)

__all__ = ["DataNotFound", "StorageFull", "StorageWriteDenied", "Store", "StoreError",
           "StoredData", "get_store"]

_stores: dict[tuple[str, str], Store] = {}
_lock = threading.Lock()


def get_store(conf: cfg.ConfigOpts) -> Store:
    """The process-wide store for conf's driver and location."""
    opts = conf.image
    key = (opts.store_driver, opts.filesystem_store_datadir)
    with _lock:
        if key not in _stores:
            if opts.store_driver == "memory":
                from controller.image.store.memory import MemoryStore

                _stores[key] = MemoryStore(opts.chunk_size)
            else:
                from controller.image.store.filesystem import FilesystemStore

                _stores[key] = FilesystemStore(opts.filesystem_store_datadir, opts.chunk_size)
        return _stores[key]


def reset() -> None:
    """Forget every store (between tests)."""
    with _lock:
        _stores.clear()
