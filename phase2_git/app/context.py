"""The repository a command runs in, and its configuration: found once, here.

``phase2 diff``, ``resolve``, ``approve`` and ``reject`` choose their configuration by side
(:mod:`phase2_git.app.sources`, ``--trust-from``); the others that need one (``check``,
``gate``, ``labels export``) read the working tree's, or ``--config``, through
:func:`open_repo`. ``judge eval`` may run outside any repository (:func:`repo_or_none`). The
hook imports this module: NamedTuple, no dataclasses, no ``from __future__ import
annotations`` (see :mod:`phase2_git.core.model`).
"""

import os
from typing import NamedTuple

from phase2_git.errors import UsageError
from phase2_git.git.repo import GitRepo
from phase2_git.store.config import Config, load


class Opened(NamedTuple):
    repo: GitRepo
    config: Config


def open_repo(
    path: str | os.PathLike[str] = ".", config: str | None = None, *, resolve: str | None = None
) -> Opened:
    """Discover the repository containing ``path`` and load its configuration (``config``: an
    explicit file, else ``.phase2/config.toml``). ``resolve``: a revision git turns into ids in
    the same call as the discovery (:meth:`GitRepo.discover`)."""
    return opened(GitRepo.discover(path, resolve=resolve), config)


def opened(repo: GitRepo, config: str | None = None) -> Opened:
    """``repo`` with its configuration, read as :func:`open_repo` reads it."""
    return Opened(repo, load(repo.root, config))


def repo_or_none(path: str | os.PathLike[str] = ".") -> GitRepo | None:
    """The repository containing ``path``, or None outside one (``phase2 judge eval`` of a
    ``--dataset`` needs none)."""
    try:
        return GitRepo.discover(path)
    except UsageError:
        return None
