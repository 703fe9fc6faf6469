"""Facts about paths and contents that need no git process: the blob id git would give some
bytes, and whether a path lies beyond a symlinked folder. Low in ``git/``: both the commit
plumbing and the working-tree checks use them."""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Iterable
from pathlib import Path

from phase2_git.git.repo import GitRepo


def blob_id(repo: GitRepo, data: bytes) -> str:
    """The id git gives ``data`` as a blob, computed here (git's hash of ``blob <size>\\0``
    and the bytes): known before git has written the object."""
    digest = blob_hasher(repo, len(data))
    digest.update(data)
    return digest.hexdigest()


def blob_hasher(repo: GitRepo, size: int) -> hashlib._Hash:
    """:func:`blob_id`'s hash of a blob of ``size`` bytes, header fed: ``update`` it with the
    bytes, in as many pieces as they come in."""
    digest = hashlib.new("sha256" if repo.object_format == "sha256" else "sha1")
    digest.update(b"blob %d\0" % size)
    return digest


def folders_above(paths: Iterable[str]) -> set[str]:
    """The folder of each of ``paths`` and every folder above it, ``""`` for the top."""
    found = {""}
    for path in paths:
        folder = posixpath.dirname(path)
        while folder not in found:
            found.add(folder)
            folder = posixpath.dirname(folder)
    return found


def beyond_symlink(root: Path, path: str) -> bool:
    """True when a folder on the way to ``path`` is a symlink or not a folder: git never tracks
    a file there, and phase2 must not read or write through it (``dir -> /etc``)."""
    return bool(beyond_symlinks(root, [path]))


def beyond_symlinks(root: Path, paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` that :func:`beyond_symlink` refuses, with one ``lstat`` per folder:
    5,000 files in a few hundred folders made a ``pathlib`` walk per file cost 0.3 s."""
    folders = RealFolders(root)
    return {path for path in paths if not folders.reach(path)}


class RealFolders:
    """Whether every folder on the way to a path is a real folder (no symlink, nothing else),
    with one ``lstat`` per folder, remembered for the next path."""

    __slots__ = ("_real", "_top")

    def __init__(self, root: Path | str) -> None:
        self._top = os.fspath(root)
        self._real: dict[str, bool] = {"": True}  # folder (relative) -> real all the way down

    def reach(self, path: str) -> bool:
        """False when :func:`beyond_symlink` refuses ``path``."""
        folder = path.rpartition("/")[0]
        ok = self._real.get(folder)
        if ok is not None:
            return ok
        ok = True
        here = ""
        for part in folder.split("/"):
            here = f"{here}/{part}" if here else part
            known = self._real.get(here)
            if known is None:
                try:
                    known = stat.S_ISDIR(os.lstat(f"{self._top}/{here}").st_mode)
                except (OSError, ValueError):
                    known = False
                self._real[here] = known
            if not known:
                ok = False
                break
        self._real[folder] = ok
        return ok
