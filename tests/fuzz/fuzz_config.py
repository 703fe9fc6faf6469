"""Fuzz the configuration reader: TOML bytes -> validated, resolved, fingerprinted Config.
See _harness.py for how to run it."""

from __future__ import annotations

import _harness


def setup() -> _harness.Target:
    from phase2_git.errors import UsageError
    from phase2_git.store import config

    def target(data: bytes) -> None:
        try:
            cfg = config.resolve(config.parse_toml(data, "config.toml"), "config.toml")
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
        assert len(cfg.fingerprint) == 64

    return target


if __name__ == "__main__":
    _harness.main("config", setup)
