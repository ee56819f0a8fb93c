"""Published mart snapshots: written after each build, the only thing the serving layer reads."""

from warehouse.publish.export import MartSpec, discover_marts
from warehouse.publish.reader import (
    NoSnapshot,
    Snapshot,
    UnknownMart,
    current_build_id,
    current_snapshot,
    mart_glob,
    open_snapshot,
)
from warehouse.publish.retention import prune, read_history
from warehouse.publish.snapshots import Retention, publish

__all__ = [
    "MartSpec",
    "NoSnapshot",
    "Retention",
    "Snapshot",
    "UnknownMart",
    "current_build_id",
    "current_snapshot",
    "discover_marts",
    "mart_glob",
    "open_snapshot",
    "prune",
    "publish",
    "read_history",
]
