"""What the environment says about where phase2 runs. Pure: the caller passes ``environ``."""

from __future__ import annotations

from collections.abc import Mapping

_TRUE = ("1", "true", "yes")


def in_ci(environ: Mapping[str, str]) -> bool:
    """``CI`` set to 1, true or yes (any case), as CI services set it: never prompt there, and
    decisions record the ``ci`` role and environment."""
    return environ.get("CI", "").lower() in _TRUE


def env_name(environ: Mapping[str, str]) -> str:
    """The environment a decision records: ``PHASE2_ENV``, else ``ci`` or ``local``."""
    return (environ.get("PHASE2_ENV") or ("ci" if in_ci(environ) else "local"))[:64]
