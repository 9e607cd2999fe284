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

The store is many small files, not one (see "the store" below): a run
on a few paths (pre-commit) loads the scans memo, the facts the catalog
phase needs and the shards of those paths, and rewrites only the files it
changed; each file is validated on its own, so a damaged one costs only
its entries.

By default the cache lives in the per-user cache folder, outside the work
tree, one subfolder per project. An in-tree folder (`cache_dir`,
`--cache-dir`) is used only when asked for, and even then a folder reached
through a symlink is not used, and a cache file that git tracks or that is
a symlink is never read nor written: a pull request must not be able to
hand orgscope the facts it judges.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import types
import typing
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Union

from orgscope import __version__
from orgscope import facts as facts_module
from orgscope.facts import CatalogScan, FileFacts
from orgscope.writes import write_atomic

_MAGIC = "orgscope-facts-cache/3"


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


# --- the store ----------------------------------------------------------------------------------
#
# <folder>/scans.json          the catalog phase's memo of every Python file, compact
# <folder>/facts/catalog.json  results memo and facts of the files the catalog phase extracts
# <folder>/facts/<xx>.json     results memo and facts of the other files, by a hash of the path
#
# Every file carries the stamp (magic, version, source digest) and is read,
# validated and rewritten on its own: a run loads a facts shard on the first
# lookup of a path in it and rewrites only the shards it changed, and a memo
# and the facts it names live in the same file, so there is no cross-file
# state a crash could leave half written. Facts are grouped by path, not by
# key: every run, pre-commit too, needs the facts of the migrations and
# models (400 files of a 20,000-file tree), and by key they would be in
# every shard; grouped apart they are one small file.

SCANS_FILE = "scans.json"
FACTS_FOLDER = "facts"
CATALOG_SHARD = "catalog"
# Caches of earlier layouts: never read, removed at the next write.
OLD_CACHE_FILES = ("facts.json",)


def shard_of_path(rel: str) -> str:
    return f"{zlib.crc32(rel.encode()) & 0xFF:02x}"


_SHARD_NAME = re.compile(r"(?:[0-9a-f]{2}|" + CATALOG_SHARD + r")\.json")


class _Shard:
    """One facts file: per path [stat signature, lookup, key], and facts by key."""

    __slots__ = ("results", "entries", "used_results", "used_entries", "dirty", "refused")

    def __init__(self, results: dict | None = None, entries: dict | None = None) -> None:
        self.results: dict[str, Any] = results or {}
        self.entries: dict[str, Any] = entries or {}  # key -> encoded facts, decoded on use
        self.used_results: dict[str, Any] = {}
        self.used_entries: dict[str, Any] = {}
        self.dirty = False
        self.refused = False


class FactsCache:
    """Facts by key, read from `folder` as a run asks for them and written at its end.

    `untrusted_root` is the work tree the run checks: a cache file inside it
    is read only when git does not track it and no symlink leads to it.
    """

    def __init__(self, folder: Path | None, untrusted_root: Path | None = None) -> None:
        self.folder = folder
        self.notes: list[str] = []
        self._shards: dict[str, _Shard] = {}
        self._on_disk: set[str] = set()  # names (relative to the folder) present when the run started
        self._refused: set[str] = set()  # names neither read nor written
        self._catalog_paths: set[str] = set()
        # path -> [size, inode, mtime, ctime, settings index, scan index]: what a
        # file's bytes told the catalog phase, trusted while its stat is unchanged.
        self._scans: dict[str, Any] = {}
        self._scan_settings: list[Any] = []
        self._scan_values: list[Any] = []
        self._scan_decoded: dict[int, CatalogScan | None] = {}
        self._used_scans: set[str] = set()
        self._new_scans: dict[str, tuple[list[int], str, Any]] = {}
        self._scans_dirty = False
        if folder is not None:
            refusal = _refusal(folder / FACTS_FOLDER, untrusted_root)
            if refusal:
                self.notes.append(f"ignored the cache {folder}: {refusal}")
                self.folder = None  # neither read nor overwritten
            else:
                self._survey(untrusted_root)
                self._load_scans()

    # -- what is on disk

    def _survey(self, untrusted_root: Path | None) -> None:
        """The files of the store, and those that must not be trusted: a
        symlink (orgscope never makes one) or, in the checked tree, a file git
        tracks (it comes from the repository, not from an earlier run)."""
        assert self.folder is not None
        names: list[tuple[str, bool]] = []
        for sub, pattern in (("", None), (FACTS_FOLDER, _SHARD_NAME)):
            try:
                with os.scandir(self.folder / sub) as listing:
                    for entry in listing:
                        name = f"{sub}/{entry.name}" if sub else entry.name
                        if pattern is not None and pattern.fullmatch(entry.name):
                            self._on_disk.add(name)
                        elif not sub and entry.name in (SCANS_FILE, *OLD_CACHE_FILES):
                            self._on_disk.add(name)
                        else:
                            continue
                        names.append((name, entry.is_symlink()))
            except OSError:
                continue  # no folder yet (a cold run), or not a folder: nothing to read
        tracked = _git_tracked(self.folder) if names and untrusted_root is not None and _inside_tree(
            self.folder, untrusted_root) else set()
        for name, is_link in names:
            reason = ("it is a symlink" if is_link else
                      "git tracks it, so it comes from the repository, not from an earlier run" if name in tracked
                      else None)
            if reason:
                self._refused.add(name)
                self.notes.append(f"ignored the cache file {self.folder / name}: {reason}")

    def _read(self, name: str) -> Any:
        """The stamped payload of one store file; None when it is absent, _DAMAGED
        when it is not one this orgscope wrote (corrupt, truncated, another
        version): that file alone starts afresh."""
        assert self.folder is not None
        if name not in self._on_disk:
            return None
        try:
            # O_NOFOLLOW: a symlink put there after the survey is not followed either.
            fd = os.open(self.folder / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
            with os.fdopen(fd, "rb") as handle:
                payload = json.loads(handle.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError):
            return _DAMAGED
        if (
            isinstance(payload, dict)
            and payload.get("magic") == _MAGIC
            and payload.get("version") == __version__
            and payload.get("source") == source_digest()
        ):
            return payload
        return _DAMAGED

    def _shard(self, rel: str) -> _Shard:
        name = CATALOG_SHARD if rel in self._catalog_paths else shard_of_path(rel)
        shard = self._shards.get(name)
        if shard is None:
            shard = self._shards[name] = self._load_shard(f"{FACTS_FOLDER}/{name}.json")
        return shard

    def _load_shard(self, name: str) -> _Shard:
        if self.folder is None or name in self._refused:
            shard = _Shard()
            shard.refused = True
            return shard
        payload = self._read(name)
        if payload is None:
            return _Shard()
        if payload is not _DAMAGED:
            results, entries = payload.get("results"), payload.get("entries")
            if isinstance(results, dict) and isinstance(entries, dict):
                return _Shard(results, entries)
        shard = _Shard()
        shard.dirty = True  # rewritten, so the damage does not stay
        return shard

    def _load_scans(self) -> None:
        if SCANS_FILE in self._refused:
            return
        payload = self._read(SCANS_FILE)
        if payload is None:
            return
        if payload is not _DAMAGED:
            files, settings, values = payload.get("files"), payload.get("settings"), payload.get("scans")
            if isinstance(files, dict) and isinstance(settings, list) and isinstance(values, list):
                self._scans, self._scan_settings, self._scan_values = files, settings, values
                return
        self._scans_dirty = True

    # -- facts and the results memo

    def every_run(self, rels: typing.Iterable[str]) -> None:
        """Paths whose facts every run reads, whatever it checks (the catalog
        phase's): kept in one file, so that a run on a few paths loads them
        and the shards of those paths, not the whole cache. Called before
        their lookups; a path that moves in or out is one cache miss."""
        self._catalog_paths.update(rels)

    def get(self, rel: str, key: str) -> FileFacts | None:
        shard = self._shard(rel)
        encoded = shard.entries.get(key)
        if encoded is None:
            return None
        try:
            facts = decode_facts(encoded)
        except InvalidEntry:
            shard.entries.pop(key, None)
            shard.dirty = True
            return None
        shard.used_entries[key] = encoded
        return facts

    def put(self, rel: str, key: str, facts: FileFacts) -> None:
        shard = self._shard(rel)
        encoded = encode_facts(facts)
        if shard.entries.get(key) != encoded:
            shard.dirty = True
        shard.used_entries[key] = encoded

    def get_result(self, rel: str, signature: list[int], lookup: str) -> FileFacts | None:
        """The facts `rel` got under `lookup` when its stat signature was this
        one, if they are still in the cache."""
        shard = self._shard(rel)
        entry = shard.results.get(rel)
        if type(entry) is not list or len(entry) != 3 or entry[0] != signature or entry[1] != lookup:
            return None
        if type(entry[2]) is not str:
            return None
        facts = self.get(rel, entry[2])
        if facts is not None:
            shard.used_results[rel] = entry
        return facts

    def put_result(self, rel: str, signature: list[int], lookup: str, key: str) -> None:
        shard = self._shard(rel)
        entry = [signature, lookup, key]
        if shard.results.get(rel) != entry:
            shard.dirty = True
        shard.used_results[rel] = entry

    # -- the catalog phase's memo

    def get_scan(self, rel: str, signature: list[int], settings: str) -> CatalogScan | None:
        """The scan of `rel` when its stat signature and the scan settings are
        those it was made with; None when it must be read again."""
        entry = self._scans.get(rel)
        if type(entry) is not list or len(entry) != 6 or entry[:4] != signature:
            return None
        setting, index = entry[4], entry[5]
        if type(setting) is not int or not 0 <= setting < len(self._scan_settings):
            return None
        if self._scan_settings[setting] != settings or type(index) is not int:
            return None
        if index not in self._scan_decoded:
            # Most files scan alike (nothing for the catalog): each distinct
            # scan is stored and decoded once.
            try:
                self._scan_decoded[index] = _dataclass_codec(CatalogScan)[1](self._scan_values[index]) if (
                    0 <= index < len(self._scan_values)) else None
            except (InvalidEntry, TypeError, ValueError):
                self._scan_decoded[index] = None
        scan = self._scan_decoded[index]
        if scan is not None:
            self._used_scans.add(rel)
        return scan

    def put_scan(self, rel: str, signature: list[int], settings: str, scan: CatalogScan) -> None:
        self._new_scans[rel] = (signature, settings, _dataclass_codec(CatalogScan)[0](scan))
        self._scans_dirty = True

    # -- writing

    def save(self, complete: bool) -> None:
        """Write what changed. After a run over the whole project keep only what
        it used (so the cache never grows without bound); after a partial run
        (pre-commit) keep the rest too. A file with nothing to change is left
        as it is."""
        if self.folder is None:
            return
        writes: dict[str, Any] = {}
        removals: list[str] = []
        for name, shard in self._shards.items():
            path = f"{FACTS_FOLDER}/{name}.json"
            if shard.refused:
                continue
            pruned = complete and (len(shard.used_results) != len(shard.results)
                                   or len(shard.used_entries) != len(shard.entries))
            if not (shard.dirty or pruned):
                continue
            results = shard.used_results if complete else {**shard.results, **shard.used_results}
            entries = shard.used_entries if complete else {**shard.entries, **shard.used_entries}
            if results or entries:
                writes[path] = {"results": results, "entries": entries}
            else:
                removals.append(path)
        if complete:
            # A shard no path of the project led to holds only what it no longer has.
            loaded = {f"{FACTS_FOLDER}/{name}.json" for name in self._shards}
            removals.extend(name for name in self._on_disk if name.startswith(FACTS_FOLDER + "/") and name not in loaded)
        scans = self._scans_payload(complete)
        if scans is not None:
            writes[SCANS_FILE] = scans
        if writes:
            removals.extend(OLD_CACHE_FILES)
        self._write(writes, [name for name in removals if name in self._on_disk and name not in self._refused])

    def _scans_payload(self, complete: bool) -> dict | None:
        pruned = complete and len(self._used_scans) != len(self._scans)
        if SCANS_FILE in self._refused or not (self._scans_dirty or pruned):
            return None
        settings: dict[str, int] = {}
        values: dict[str, int] = {}  # a scan's JSON text -> its index
        encoded_values: list[Any] = []

        def value_index(value: Any) -> int:
            text = json.dumps(value, separators=(",", ":"))
            if text not in values:
                values[text] = len(encoded_values)
                encoded_values.append(value)
            return values[text]

        # The rows kept as they were: their indexes are mapped once per index, not once per row.
        old_setting: dict[int, int] = {}
        old_value: dict[int, int] = {}
        files: dict[str, list] = {}
        for rel in (self._used_scans if complete else self._scans):
            entry = self._scans[rel]
            if rel in self._new_scans or not _scan_row_shape(entry, self._scan_settings, self._scan_values):
                continue
            setting, value = entry[4], entry[5]
            if setting not in old_setting:
                old_setting[setting] = settings.setdefault(self._scan_settings[setting], len(settings))
            if value not in old_value:
                old_value[value] = value_index(self._scan_values[value])
            files[rel] = [*entry[:4], old_setting[setting], old_value[value]]
        for rel, (signature, setting, value) in self._new_scans.items():
            files[rel] = [*signature, settings.setdefault(setting, len(settings)), value_index(value)]
        return {"settings": list(settings), "scans": encoded_values, "files": files}

    def _write(self, writes: dict[str, Any], removals: list[str]) -> None:
        assert self.folder is not None
        stamp = {"magic": _MAGIC, "version": __version__, "source": source_digest()}
        try:
            if writes:
                (self.folder / FACTS_FOLDER).mkdir(parents=True, exist_ok=True)
                gitignore = self.folder / ".gitignore"
                if not gitignore.exists():
                    write_atomic(gitignore, "# created by orgscope\n*\n", overwrite=True)
        except OSError:
            return  # a read-only checkout still gets its findings
        for name, payload in writes.items():
            try:
                write_atomic(self.folder / name, json.dumps({**stamp, **payload}, separators=(",", ":")),
                             overwrite=True)
            except OSError:
                pass  # that file keeps what it had; the others are still written
        for name in removals:
            try:
                os.unlink(self.folder / name)
            except OSError:
                pass


_DAMAGED: Any = object()


def _scan_row_shape(entry: Any, settings: list, values: list) -> bool:
    """A remembered scan row that can be written back as it is."""
    return (type(entry) is list and len(entry) == 6 and all(type(v) is int for v in entry)
            and 0 <= entry[4] < len(settings) and type(settings[entry[4]]) is str and 0 <= entry[5] < len(values))


def _refusal(path: Path, untrusted_root: Path | None) -> str | None:
    """Why a cache folder inside the checked work tree must not be trusted, if it must not."""
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
    return None


def _inside_tree(path: Path, root: Path) -> bool:
    try:
        return bool(_inside(path.absolute(), root.absolute()) or _inside(path.resolve(), root.resolve()))
    except OSError:
        return True  # cannot tell: ask git


def _inside(path: Path, root: Path) -> tuple[Path, tuple[str, ...]] | None:
    try:
        return root, path.relative_to(root).parts
    except ValueError:
        return None


def _git_tracked(folder: Path) -> set[str]:
    """The files under `folder` that git tracks, relative to it (one call for the whole store)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", "."],
            cwd=folder, capture_output=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return set()  # no git: nothing can be tracked
    if listed.returncode != 0:
        return set()
    return {name.decode("utf-8", "surrogateescape") for name in listed.stdout.split(b"\0") if name}
