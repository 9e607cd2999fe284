"""The only way orgscope writes files: atomically, and never over an existing
file unless asked (reports, baselines, generated migrations, the cache)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from orgscope.errors import OrgscopeError


def write_atomic(path: Path, text: str | bytes, *, overwrite: bool = False) -> None:
    """Write via a temporary file in the same folder and a rename, so a reader
    never sees half a file and a crash leaves the old one intact."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OrgscopeError(f"{path} already exists; pass --force to overwrite it")
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if not overwrite:
            # os.link fails if the target appeared meanwhile: no silent overwrite.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise OrgscopeError(f"{path} already exists; pass --force to overwrite it") from None
            except OSError:
                os.replace(tmp, path)
                return
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_output(path: Path, text: str | bytes) -> None:
    """The report (`--output`): a regular file, or a new one, is replaced
    atomically; anything else (a device such as /dev/stdout, a FIFO a reader
    waits on, a symlink) is written through, never replaced by a file."""
    path = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    # A symlink stays; its target gets the report (realpath: a link loop is an OSError below, not a hang).
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "wb") as handle:
            handle.write(data)
        return
    write_atomic(target, data, overwrite=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
