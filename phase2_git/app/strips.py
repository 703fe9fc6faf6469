"""The first step of a mixed file (``strip_noise``) run where its pair is read.

``resolve --yes`` and ``check --fix`` ask it of every pair their diff reads
(:class:`~phase2_git.core.pipeline.PairCheck` with ``strips``): a large diff's workers strip
on their own cores while the diff runs, and each strip comes right after its file's analysis,
which kept the stripped head it walked (:func:`phase2_git.core.changes.analyse_json`), so the
file is not walked a second time.
"""

from __future__ import annotations

from phase2_git.core import transforms
from phase2_git.core.classify import whitespace_rules
from phase2_git.core.model import Blob, Mismatch
from phase2_git.core.settings import ClassifySettings
from phase2_git.git.paths import blob_id
from phase2_git.git.repo import GitRepo

# what a strip gave: the stripped head's (blob id, bytes), or why the transform refused it
Strip = tuple[str, bytes] | str


class StripHere:
    """The first step of a mixed file whose strip is safe, run on the pair just read: its
    :data:`Strip`, or None for any other file. A side over ``max_file_size`` was not read: the
    caller strips it itself, reading it whole."""

    def __init__(self, repo: GitRepo, settings: ClassifySettings) -> None:
        self.repo = repo
        self.settings = settings

    def __call__(self, m: Mismatch, before: Blob | None, after: Blob | None) -> Strip | None:
        if not m.strips_safely or before is None or after is None:
            return None
        if before.data is None or after.data is None:
            return None
        return run_strip(self.repo, self.settings, m, before.data, after.data)


def run_strip(
    repo: GitRepo, settings: ClassifySettings, m: Mismatch, before: bytes, after: bytes
) -> Strip:
    """A mixed file's first step run on its sides: (blob id, bytes), or why it was refused."""
    first = m.plan.first
    assert first is not None
    spec = transforms.spec_for(
        first.transform.id,
        m.mismatch_type,
        m.artifact_type,
        settings,
        whitespace_rules(m.path, settings),
    )
    assert spec is not None  # one configuration plans and applies
    try:
        data = transforms.apply(spec, before, after)
    except transforms.TransformError as exc:
        return str(exc)
    return blob_id(repo, data), data
