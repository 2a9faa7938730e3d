"""Block storage (Cinder-compatible): volumes, types, snapshots, attachments, backups,
quotas and the scheduler that places volumes on the volume agents' backend pools."""
