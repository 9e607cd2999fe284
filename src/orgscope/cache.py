"""Content-addressed cache of per-file facts, as plain JSON.

A file's facts depend only on its bytes, its path and kind, the analysis
settings and orgscope itself, so the key is a hash of exactly those (the
version and a digest of orgscope's own source files: a changed rule never
reuses old facts, whether or not the version was bumped).

The cache is data, never code: it is JSON decoded against the types of the
facts dataclasses, field by field, and any entry that does not match them is
ignored and rebuilt. JSON rather than a binary serialiser because the facts
hold unions of dataclasses (a predicate is a Compare or an Or), which a typed
decoder has to tell apart by a tag either way; the standard library's json
plus the small decoder below keeps that in one readable place.

Beside the facts, two memos let a run skip reading files that did not
change: per path, the file's stat signature (size, inode, mtime, ctime) with
what the catalog phase scanned from its bytes, and with the key of the facts
it got under the same lookup (settings, gate names, model names). A write to
a file changes its ctime, which tools cannot set back, and a signature is
kept only for a file that was unchanged for two seconds before it was read,
so a change within a file system's timestamp granularity is never missed.
A memo that does not match is read as absent.

By default the cache lives in the per-user cache folder, outside the work
tree, one subfolder per project. An in-tree folder (`cache_dir`,
`--cache-dir`) is used only when asked for, and even then a cache file that
git tracks or that is reached through a symlink is never read: a pull
request must not be able to hand orgscope the facts it judges.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Union

from orgscope import __version__
from orgscope import facts as facts_module
from orgscope.facts import CatalogScan, FileFacts
from orgscope.writes import write_atomic

_MAGIC = "orgscope-facts-cache/2"
CACHE_FILE = "facts.json"


@lru_cache(maxsize=1)
def source_digest() -> str:
    """A digest of orgscope's own Python source, read once per process."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\x1f")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def settings_key(*parts: object) -> str:
    """A digest of everything besides the file that shapes its facts."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(__version__.encode() + b"\x1f" + source_digest().encode())
    for part in parts:
        digest.update(b"\x1f")
        digest.update(repr(part).encode())
    return digest.hexdigest()


def file_key(settings: str, rel: str, kind: str, data: bytes) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(settings.encode())
    digest.update(b"\x1f" + rel.encode() + b"\x1f" + kind.encode() + b"\x1f")
    digest.update(data)
    return digest.hexdigest()


def default_cache_folder(project_root: Path) -> Path:
    """The per-user cache folder of one project (outside any work tree)."""
    import platformdirs

    project = hashlib.blake2b(str(project_root.resolve()).encode(), digest_size=8).hexdigest()
    return Path(platformdirs.user_cache_dir("orgscope", appauthor=False)) / project


# --- the plain-data codec -----------------------------------------------------------------------


class InvalidEntry(ValueError):
    """A cached value that does not have the shape of the facts."""


_Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (encode, decode)


def _fail(expected: str, value: Any) -> typing.NoReturn:
    raise InvalidEntry(f"expected {expected}, got {type(value).__name__}")


def _scalar(kind: type) -> _Codec:
    def decode(value):
        # JSON's true is not an int here, and an int is not a str.
        if type(value) is not kind:
            _fail(kind.__name__, value)
        return value

    return (lambda value: value), decode


def _none() -> _Codec:
    def decode(value):
        if value is not None:
            _fail("null", value)
        return None

    return (lambda value: None), decode


def _list(item: _Codec, build: Callable = list) -> _Codec:
    encode_item, decode_item = item

    def decode(value):
        if type(value) is not list:
            _fail("a list", value)
        items = [decode_item(v) for v in value]  # a comprehension: most lists are empty or short
        return items if build is list else build(items)

    return (lambda value: [encode_item(v) for v in value]), decode


def _dict(item: _Codec) -> _Codec:
    encode_item, decode_item = item

    def decode(value):
        if type(value) is not dict:
            _fail("an object", value)
        return {k: decode_item(v) for k, v in value.items()}

    return (lambda value: {k: encode_item(v) for k, v in value.items()}), decode


def _union(options: list[Any]) -> _Codec:
    """None and one other type need no tag; several dataclasses are tagged by name."""
    nullable = type(None) in options
    rest = [o for o in options if o is not type(None)]
    if len(rest) == 1:
        encode_one, decode_one = _codec(rest[0])
    else:
        if not all(dataclasses.is_dataclass(o) for o in rest):
            raise TypeError(f"cannot cache a union of {rest}")
        by_name = {o.__name__: (o, _dataclass_codec(o)) for o in rest}

        def encode_one(value):
            return [type(value).__name__, by_name[type(value).__name__][1][0](value)]

        def decode_one(value):
            if type(value) is not list or len(value) != 2 or value[0] not in by_name:
                _fail(f"one of {', '.join(by_name)}", value)
            return by_name[value[0]][1][1](value[1])

    if not nullable:
        return encode_one, decode_one
    return ((lambda value: None if value is None else encode_one(value)),
            (lambda value: None if value is None else decode_one(value)))


@lru_cache(maxsize=None)
def _dataclass_codec(cls: type) -> _Codec:
    """A dataclass as the list of its field values, in declaration order."""
    hints = typing.get_type_hints(cls, vars(facts_module))
    names = [f.name for f in dataclasses.fields(cls)]
    codecs: list[_Codec] = []
    decoders: list[Callable] = []
    # Fields refer to each other recursively (an Or holds predicates): build
    # the field codecs on first use, after this class's entry exists.

    def field_codecs():
        if not codecs:
            codecs.extend(_codec(hints[name]) for name in names)
            decoders.extend(dec for _, dec in codecs)
        return codecs

    def encode(value):
        return [enc(getattr(value, name)) for name, (enc, _) in zip(names, field_codecs())]

    count = len(names)

    def decode(value):
        if type(value) is not list or len(value) != count:
            _fail(f"{cls.__name__} ({count} fields)", value)
        if not decoders:
            field_codecs()
        return cls(*[dec(v) for dec, v in zip(decoders, value)])

    return encode, decode


def _codec(hint: Any) -> _Codec:
    if isinstance(hint, (str, typing.ForwardRef)):  # `list["Pred"]`
        hint = vars(facts_module)[hint if isinstance(hint, str) else hint.__forward_arg__]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint in (int, str, bool):
        return _scalar(hint)
    if hint is float:
        return (lambda value: value), _number
    if hint is type(None):
        return _none()
    if origin in (Union, types.UnionType):
        return _union(list(args))
    if origin is list:
        return _list(_codec(args[0]))
    if origin is frozenset:
        return _list(_codec(args[0]), frozenset)
    if origin is dict and args[0] is str:
        return _dict(_codec(args[1]))
    if dataclasses.is_dataclass(hint):
        return _dataclass_codec(hint)
    raise TypeError(f"the facts cache cannot hold {hint!r}")


def _number(value):
    if type(value) not in (int, float):
        _fail("a number", value)
    return float(value)


def encode_facts(facts: FileFacts) -> Any:
    return _dataclass_codec(FileFacts)[0](facts)


def decode_facts(value: Any) -> FileFacts:
    """The FileFacts a cached value describes; InvalidEntry if it describes none."""
    try:
        return _dataclass_codec(FileFacts)[1](value)
    except InvalidEntry:
        raise
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise InvalidEntry(str(exc)) from None


# --- the cache ----------------------------------------------------------------------------------


class FactsCache:
    """Facts by key, read from `folder` at the start of a run and written at its end.

    `untrusted_root` is the work tree the run checks: a cache file inside it
    is read only when git does not track it and no symlink leads to it.
    """

    def __init__(self, folder: Path | None, untrusted_root: Path | None = None) -> None:
        self.folder = folder
        self.entries: dict[str, Any] = {}  # key -> encoded facts, decoded on use
        self.used: dict[str, Any] = {}
        # path -> [stat signature, scan settings, scan]: what a file's bytes
        # told the catalog phase, trusted while the file's stat is unchanged.
        self.scans: dict[str, Any] = {}
        self.used_scans: dict[str, Any] = {}
        # path -> [stat signature, lookup settings, key of its facts]
        self.results: dict[str, Any] = {}
        self.used_results: dict[str, Any] = {}
        self.dirty = False
        self.notes: list[str] = []
        if folder is not None:
            path = folder / CACHE_FILE
            refusal = _refusal(path, untrusted_root)
            if refusal:
                self.notes.append(f"ignored the cache {path}: {refusal}")
                self.folder = None  # neither read nor overwritten
            else:
                self._load(path)

    def _load(self, path: Path) -> None:
        try:
            payload = json.loads(path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValueError, RecursionError):  # corrupt, truncated, not JSON: start afresh
            self.dirty = True
            return
        if (
            isinstance(payload, dict)
            and payload.get("magic") == _MAGIC
            and payload.get("version") == __version__
            and payload.get("source") == source_digest()
            and isinstance(payload.get("entries"), dict)
        ):
            self.entries = payload["entries"]
            scans, results = payload.get("scans"), payload.get("results")
            self.scans = scans if isinstance(scans, dict) else {}
            self.results = results if isinstance(results, dict) else {}
        else:
            self.dirty = True

    def get(self, key: str) -> FileFacts | None:
        encoded = self.entries.get(key)
        if encoded is None:
            return None
        try:
            facts = decode_facts(encoded)
        except InvalidEntry:
            self.entries.pop(key, None)
            self.dirty = True
            return None
        self.used[key] = encoded
        return facts

    def put(self, key: str, facts: FileFacts) -> None:
        self.used[key] = encode_facts(facts)
        self.dirty = True

    def get_scan(self, rel: str, signature: list[int], settings: str) -> CatalogScan | None:
        """The scan of `rel` when its stat signature and the scan settings are
        those it was made with; None when it must be read again."""
        entry = self.scans.get(rel)
        if type(entry) is not list or len(entry) != 3 or entry[0] != signature or entry[1] != settings:
            return None
        try:
            scan = _dataclass_codec(CatalogScan)[1](entry[2])
        except (InvalidEntry, TypeError, ValueError):
            return None
        self.used_scans[rel] = entry
        return scan

    def put_scan(self, rel: str, signature: list[int], settings: str, scan: CatalogScan) -> None:
        self.used_scans[rel] = [signature, settings, _dataclass_codec(CatalogScan)[0](scan)]
        self.dirty = True

    def get_result(self, rel: str, signature: list[int], lookup: str) -> FileFacts | None:
        """The facts `rel` got under `lookup` when its stat signature was this
        one, if they are still in the cache."""
        entry = self.results.get(rel)
        if type(entry) is not list or len(entry) != 3 or entry[0] != signature or entry[1] != lookup:
            return None
        if type(entry[2]) is not str:
            return None
        facts = self.get(entry[2])
        if facts is not None:
            self.used_results[rel] = entry
        return facts

    def put_result(self, rel: str, signature: list[int], lookup: str, key: str) -> None:
        self.used_results[rel] = [signature, lookup, key]
        self.dirty = True

    def save(self, complete: bool) -> None:
        """Write the cache. After a run over the whole project keep only what it
        used (so the cache never grows without bound); after a partial run
        (pre-commit) keep the rest too."""
        pruned = complete and (len(self.used) != len(self.entries) or len(self.used_scans) != len(self.scans)
                               or len(self.used_results) != len(self.results))
        if self.folder is None or not (self.dirty or pruned):
            return  # a partial run that learnt nothing new leaves the file as it is
        entries = self.used if complete else {**self.entries, **self.used}
        scans = self.used_scans if complete else {**self.scans, **self.used_scans}
        results = self.used_results if complete else {**self.results, **self.used_results}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                write_atomic(gitignore, "# created by orgscope\n*\n", overwrite=True)
            payload = {"magic": _MAGIC, "version": __version__, "source": source_digest(), "entries": entries,
                       "scans": scans, "results": results}
            write_atomic(self.folder / CACHE_FILE, json.dumps(payload, separators=(",", ":")), overwrite=True)
        except OSError:
            pass  # a read-only checkout still gets its findings


def _refusal(path: Path, untrusted_root: Path | None) -> str | None:
    """Why a cache file inside the checked work tree must not be trusted, if it must not."""
    if untrusted_root is None:
        return None
    try:
        inside = _inside(path.absolute(), untrusted_root.absolute()) or _inside(path.resolve(), untrusted_root.resolve())
        if inside is None:
            return None  # the per-user folder, or one outside the checked tree
        root, parts = inside
        for part in parts:
            root = root / part
            if root.is_symlink():
                return f"{root.name} is a symlink"
    except OSError as exc:
        return f"cannot inspect it ({exc.strerror or exc})"
    if path.exists() and _git_tracks(path):
        return "git tracks it, so it comes from the repository, not from an earlier run"
    return None


def _inside(path: Path, root: Path) -> tuple[Path, tuple[str, ...]] | None:
    try:
        return root, path.relative_to(root).parts
    except ValueError:
        return None


def _git_tracks(path: Path) -> bool:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", path.name],
            cwd=path.parent, capture_output=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False  # no git: nothing can be tracked
    return listed.returncode == 0 and bool(listed.stdout.strip(b"\0"))
