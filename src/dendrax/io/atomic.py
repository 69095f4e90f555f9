"""Atomic, symlink-safe file writes (checkpoints, saved modules and parameters).

A file is written to a fresh temporary file created with :func:`tempfile.mkstemp` in the
target's own directory (``O_CREAT | O_EXCL``: it never opens an existing file or follows a
symlink planted under a predictable name), flushed and ``fsync``-ed, then moved over the
target with :func:`os.replace`. The rename replaces a symlink at the target itself rather
than writing through it, and a crash at any point leaves either the old or the new file,
never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from typing import IO

__all__ = ["atomic_write", "rotate_generations", "generation_paths"]


def _new_file_mode(path: str) -> int:
    """Permissions for the new file: those of the regular file it replaces, else 0o666 & ~umask.

    ``mkstemp`` creates files readable by their owner only; a saved model should get the same
    permissions as a file written with ``open(path, "w")``.
    """
    try:
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except FileNotFoundError:
        pass
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (best effort: not every OS/FS allows it)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: str | os.PathLike, write: Callable[[IO[bytes]], None], keep: int | None = None
) -> None:
    """Write ``path`` atomically: ``write(f)`` fills a temporary file that then replaces it.

    Args:
        path: the target file. Its directory must exist. A symlink at ``path`` is replaced
            by the new file (the file it points to is left untouched).
        write: called with the temporary file opened for binary writing.
        keep: if given, keep this many generations: once the new file is complete, the
            previous ones move to ``path.1``, ``path.2``, ... (see :func:`rotate_generations`).

    Raises:
        FileNotFoundError: if the target's directory does not exist.
        OSError: whatever ``write`` or the file system raises; the target is then unchanged
            and the temporary file removed.
    """
    path = os.fspath(path)
    if keep is not None:
        _check_keep(keep)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save {path!r}: the directory {directory!r} does not exist")
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), _new_file_mode(path))
        if keep is not None:
            rotate_generations(path, keep)
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(directory)
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)


def _check_keep(keep) -> None:
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise ValueError(f"keep must be an int >= 1 (generations to keep), got {keep!r}")


def generation_paths(path: str | os.PathLike, keep: int | None = None) -> list[str]:
    """``[path, path.1, path.2, ...]``: the newest file first, then older generations.

    With ``keep`` the list has ``keep`` names; without, it lists ``path`` and the older
    generations that exist (``path.1``, ``path.2``, ... up to the first missing one).
    """
    path = os.fspath(path)
    if keep is not None:
        return [path] + [f"{path}.{i}" for i in range(1, keep)]
    names = [path]
    i = 1
    while os.path.lexists(f"{path}.{i}"):
        names.append(f"{path}.{i}")
        i += 1
    return names


def rotate_generations(path: str | os.PathLike, keep: int) -> None:
    """Shift ``path -> path.1 -> ... -> path.<keep-1>`` (the oldest is dropped).

    Called before a new ``path`` is moved in, so the last ``keep`` saves survive. Renames
    never follow symlinks; a generation beyond ``keep`` left by an earlier run with a larger
    ``keep`` is removed so that loading never picks up a stale file.
    """
    _check_keep(keep)
    names = generation_paths(path, keep)
    for stale in generation_paths(path)[keep:]:
        with contextlib.suppress(FileNotFoundError):
            os.remove(stale)
    for older, newer in zip(names[:0:-1], names[-2::-1], strict=True):
        if os.path.lexists(newer):
            os.replace(newer, older)
