"""Prometheus textfile output shared by every writer (run gauges, judge metrics, gate).

``prometheus_client.write_to_textfile`` renames but does not fsync; node_exporter's textfile
collector must never read a torn file, so we render with ``generate_latest`` and write through
our atomic writer (temp file, fsync, rename).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from phase2_git.store.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


def render(registry: CollectorRegistry) -> bytes:
    from prometheus_client import generate_latest

    data: bytes = generate_latest(registry)
    return data


def write_textfile(registry: CollectorRegistry, path: str | os.PathLike[str]) -> None:
    atomic_write_bytes(path, render(registry))
