"""SQL access: one engine per process, sessions as transactions."""
