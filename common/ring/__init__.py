"""The object-storage ring: partitions placed on devices across zones."""
