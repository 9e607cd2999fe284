"""Run extraction over many files: read, prefilter, cache, parallelise, bound.

* Files that name no org table, tenancy column or model class are never
  parsed: a substring test on the decoded text is orders of magnitude cheaper
  than sqlglot or libcst.
* Of the Python files that do, only those with a token that can start a
  query fact go to libcst (`orgscope.python.gate`); the names the catalog
  phase learnt (model classes, the data-access layer, constants) are part of
  that decision and of the cache key of a file it kept from libcst.
  `ORGSCOPE_NO_GATE=1` parses every file the prefilter passes (the
  equivalence test compares the two).
* Facts come from the content-addressed cache when the file is unchanged;
  a file whose stat signature is the one remembered is not even read (so a
  pre-commit run reads the files it checks, not the whole project).
* What is left is parsed in worker processes (both cores) when there is
  enough of it to pay for them; results are keyed by path, so the output
  order never depends on scheduling.
* Each file's analysis runs under a time bound (`file_timeout`); hitting it is
  an ORG900 finding for that file, never a stalled run.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from orgscope.cache import FactsCache, default_cache_folder, file_key, settings_key
from orgscope.config import Config
from orgscope.context import ExtractContext
from orgscope.discover import SourceFile
from orgscope.extract import extract_file, internal_error, module_name
from orgscope.facts import CatalogScan, FileFacts, Problem, Span
from orgscope.model import TenancyModel
from orgscope.python import datalayer
from orgscope.python.gate import CandidateGate
from orgscope import suppress

_BINARY_SNIFF = 8192
# A Python file whose bytes contain one of these may define models or be an
# Alembic revision or a Django migration's SQL: it feeds the catalog even
# when it is not checked.
CATALOG_MARKERS = (b"__tablename__", b"Table(", b"down_revision", b"RunSQL")
# Below this many files to parse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 24


class FileTimeout(BaseException):
    """Raised by the time bound. A BaseException, so that the `except
    Exception` guards around a single statement cannot swallow it."""


def extraction_settings(config: Config, model: TenancyModel) -> tuple:
    return (
        model.name,
        model.org_column,
        model.org_column_type,
        model.legacy_column,
        sorted(map(str, model.org_tables)),
        sorted(map(str, model.client_tables)),
        model.mapping_table,
        model.mapping_column,
        config.dialect,
        config.query_wrappers,
        config.scoping_helpers,
        config.check_migration_queries,
        sorted(model.request_functions),
        sorted(model.trigger_words),
    )


class Extractor:
    """Facts for many files, sharing one cache across the phases of a run."""

    def __init__(self, config: Config, model: TenancyModel, *, use_cache: bool, jobs: int | None,
                 debug: bool = False) -> None:
        self.config = config
        self.model = model
        self.debug = debug
        self.jobs = jobs if jobs is not None else config.jobs
        self.cache = FactsCache(cache_folder(config) if use_cache else None, untrusted_root=config.root)
        self._loaded: dict[str, tuple] = {}  # rel -> read_source() result, read once
        # For the data-access layer's inference: files that may define a
        # wrapper (their bytes), and the constants naming tables or columns.
        self._wrapper_files: list[tuple[str, str, bytes]] = []
        self._python_files: list[SourceFile] = []
        self._constants: dict[str, str] = {}
        self.settings = settings_key(*extraction_settings(config, model))
        self._scan_settings = settings_key("catalog scan", sorted(model.trigger_words), config.max_file_bytes)
        self.use_gate = os.environ.get("ORGSCOPE_NO_GATE", "") in ("", "0")
        self.ctx = ExtractContext(
            model=model,
            dialect=config.dialect,
            query_wrappers=config.query_wrappers,
            scoping_helpers=config.scoping_helpers,
            check_migration_queries=config.check_migration_queries,
        )

    def feeds_catalog(self, source: SourceFile) -> bool:
        """Migrations, and Python files that may define models or be Alembic
        revisions. The text of a file that does is kept for its extraction."""
        if source.kind == "migration":
            return True
        if source.kind != "python":
            return False
        signature = _stat_signature(source)
        scan = self.cache.get_scan(source.rel, signature, self._scan_settings) if signature else None
        loaded = None
        if scan is None:
            loaded = read_source(source, self.config)
            data = loaded[0]
            if data is None:
                return False
            scan = CatalogScan(
                feeds_catalog=any(marker in data for marker in CATALOG_MARKERS),
                may_define_wrapper=datalayer.may_define_wrapper(data),
                constants=datalayer.constants_of(module_name(source.rel), data, self.model.trigger_words),
            )
            if signature and _settled(signature):
                self.cache.put_scan(source.rel, signature, self._scan_settings, scan)
        self._python_files.append(source)
        self._constants.update(scan.constants)
        if scan.may_define_wrapper:
            loaded = loaded or read_source(source, self.config)
            if loaded[0] is not None:
                self._wrapper_files.append((source.rel, module_name(source.rel), loaded[0]))
        if scan.feeds_catalog and loaded is not None:
            # Extracted right away in the catalog phase; the others are read
            # again later rather than held in memory (a large tree's text).
            self._loaded[source.rel] = loaded
        return scan.feeds_catalog

    def infer_data_layer(self) -> datalayer.DataLayer:
        """The project's data-access layer, from the Python files `feeds_catalog`
        saw; every later extraction knows it (and the cache keys include it)."""

        def others():
            for source in self._python_files:
                data = read_source(source, self.config)[0]
                if data is not None:
                    yield source.rel, module_name(source.rel), data

        configured = frozenset(w.call.split(".")[-2] for w in self.config.query_wrappers if "." in w.call)
        layer = datalayer.infer(self._wrapper_files, others, self.model.org_column, self._constants, configured)
        self._wrapper_files = []
        self.ctx = replace(self.ctx, data_layer=layer)
        self.settings = settings_key(*extraction_settings(self.config, self.model), layer)
        return layer

    def know_org_views(self, names: frozenset[str]) -> None:
        """Views the migrations create over org tables, exposing the org
        column, are org tables for the files extracted from now on: a query
        that names one is worth parsing (and the cache keys say so)."""
        if not names:
            return
        self.model = replace(self.model, trigger_words=self.model.trigger_words | names)
        self.ctx = replace(self.ctx, model=self.model)
        self.settings = settings_key(*extraction_settings(self.config, self.model), self.ctx.data_layer)

    def run(self, files: list[SourceFile], model_names: frozenset[str] = frozenset(),
            gated: bool = False) -> dict[str, FileFacts]:
        """Facts of `files`. A file is parsed only when it names an org table or
        tenancy column (any case) or one of `model_names` (class names, exact
        case). `gated` (the phase after the catalog): a Python file must also
        pass the candidate gate, which those names feed."""
        results: dict[str, FileFacts] = {}
        pending: list[tuple[SourceFile, bool, str, str | None, list[int] | None]] = []
        gate = gate_key = None
        if gated and self.use_gate:
            layer = self.ctx.data_layer
            names = model_names | {name.rsplit(".", 1)[-1] for name, _ in layer.constants}
            calls = tuple(w.call for w in self.config.query_wrappers + layer.wrappers)
            gate = CandidateGate.for_model(self.model, names, calls)
            gate_key = settings_key(self.settings, sorted(gate.names))
        # Everything besides a file's bytes that decides its facts in this
        # phase: an unchanged file (same stat signature) under the same
        # lookup gets the facts it got last time without being read.
        lookup = settings_key(self.settings, gate_key, sorted(model_names))
        if not gated:
            self.cache.every_run(source.rel for source in files)
        for source in files:
            signature = _stat_signature(source)
            remembered = self.cache.get_result(source.rel, signature, lookup) if signature else None
            if remembered is not None:
                self._loaded.pop(source.rel, None)
                results[source.rel] = remembered
                continue
            data, text, early = self._loaded.pop(source.rel, None) or read_source(source, self.config)
            if early is not None:
                results[source.rel] = early
                continue
            remember = signature is not None and _settled(signature)
            if source.kind != "migration" and not self.model.mentions(text, model_names):
                # Nothing here can be about an org table: only its comments
                # matter, and an Alembic revision's place in the graph.
                language = "python" if source.kind == "python" else "sql"
                revision, needs_parse = _graph_only_revision(text) if language == "python" else (None, False)
                if not needs_parse:
                    facts = FileFacts(
                        path=source.rel, kind="alembic" if revision else source.kind, alembic=revision,
                        suppressions=suppress.scan(text, language),
                    )
                    results[source.rel] = facts
                    if remember:
                        # Under a key of its own: with other model names the file may be parsed.
                        key = file_key(lookup, source.rel, source.kind, data)
                        self.cache.put(source.rel, key, facts)
                        self.cache.put_result(source.rel, signature, lookup, key)
                    continue
            key = file_key(self.settings, source.rel, source.kind, data)
            cached = self.cache.get(source.rel, key)
            # A file the gate kept from libcst is cached under a key that also
            # holds the names the gate knew: a new model class reopens it.
            gated_key = file_key(gate_key, source.rel, source.kind, data) if gate and source.kind == "python" else None
            used = key
            if cached is None and gated_key is not None:
                cached, used = self.cache.get(source.rel, gated_key), gated_key
            if cached is not None:
                results[source.rel] = cached
                if remember:
                    self.cache.put_result(source.rel, signature, lookup, used)
            else:
                # The text is not held: a large tree's would all be in memory at
                # once. The extraction reads the file again (see `_load`).
                pending.append((source, REPLACEMENT in text, key, gated_key, signature if remember else None))
        tasks = [_task(source, key) for source, _, key, _, _ in pending]
        for (source, replaced, key, gated_key, signature), (facts, parsed) in zip(pending, self._extract(tasks, gate)):
            if facts is None:
                # Changed since it was read: judged as it is now, remembered by nobody.
                results[source.rel] = self._extract_now(source, gate)
                continue
            if replaced:
                _report_replacement(facts, source)
            if not _is_internal_failure(facts):
                used = key if parsed or gated_key is None else gated_key
                self.cache.put(source.rel, used, facts)
                if signature is not None:
                    self.cache.put_result(source.rel, signature, lookup, used)
            results[source.rel] = facts
        return results

    def _extract_now(self, source: SourceFile, gate: CandidateGate | None) -> FileFacts:
        data, text, early = read_source(source, self.config)
        if early is not None:
            return early
        facts, _ = extract_gated(source.rel, source.kind, text, self.ctx, self.config.file_timeout, self.debug, gate)
        if REPLACEMENT in text:
            _report_replacement(facts, source)
        return facts

    def _extract(self, tasks: list[_Task], gate: CandidateGate | None) -> list[tuple[FileFacts | None, bool]]:
        jobs = self.jobs or os.cpu_count() or 1
        timeout = self.config.file_timeout
        if jobs <= 1 or len(tasks) < PARALLEL_THRESHOLD or self.debug:
            return [_worker(task, self.settings, self.ctx, timeout, gate, self.debug) for task in tasks]
        try:
            import multiprocessing

            context = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
            with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
                chunk = max(1, len(tasks) // (jobs * 8))
                count = len(tasks)
                return list(
                    pool.map(_worker, tasks, [self.settings] * count, [self.ctx] * count, [timeout] * count,
                             [gate] * count, chunksize=chunk)
                )
        except (OSError, RuntimeError):  # no processes here (sandbox): do it serially
            return [_worker(task, self.settings, self.ctx, timeout, gate) for task in tasks]

    def save(self, complete: bool) -> None:
        self.cache.save(complete)


def cache_folder(config: Config) -> Path:
    """`cache_dir` (relative to the config's folder) when set, else the per-user cache folder."""
    if config.cache_dir:
        return config.root / config.cache_dir
    return default_cache_folder(config.root)


# (path relative to the root, kind, file to read or None, text given on
# stdin or None, the cache key of the bytes the main process read)
_Task = tuple[str, str, str | None, bytes | None, str]


def _task(source: SourceFile, key: str) -> _Task:
    if source.content is not None:
        return source.rel, source.kind, None, source.content, key
    return source.rel, source.kind, str(source.path), None, key


def _load(task: _Task, settings: str) -> str | None:
    """The text of a task's file, read where it is extracted; None when its
    bytes are no longer those the main process keyed (changed meanwhile)."""
    rel, kind, path, content, key = task
    try:
        data = content if content is not None else Path(path).read_bytes()  # type: ignore[arg-type]
    except OSError:
        return None
    if file_key(settings, rel, kind, data) != key:
        return None
    return _decode(data)


def _worker(task: _Task, settings: str, ctx: ExtractContext, timeout: float, gate: CandidateGate | None,
            debug: bool = False) -> tuple[FileFacts | None, bool]:
    text = _load(task, settings)
    if text is None:
        return None, False
    return extract_gated(task[0], task[1], text, ctx, timeout, debug, gate)


def extract_gated(rel: str, kind: str, text: str, ctx: ExtractContext, timeout: float, debug: bool,
                  gate: CandidateGate | None) -> tuple[FileFacts, bool]:
    """(facts, parsed): a Python module the gate turns away yields its
    suppression comments alone, as a file the prefilter turns away does."""
    if gate is not None and kind == "python":
        suppressions = suppress.scan(text, "python")
        if not gate.admits(text, bool(suppressions)):
            return FileFacts(path=rel, kind=kind, suppressions=suppressions), False
    return extract_text(rel, kind, text, ctx, timeout, debug), True


def extract_text(rel: str, kind: str, text: str, ctx: ExtractContext, timeout: float, debug: bool) -> FileFacts:
    """Facts of one decoded file under a time bound; never raises (unless debugging)."""
    if rel.endswith(".py"):
        ctx = replace(ctx, module=module_name(rel))
    with _time_bound(timeout) as bound:
        try:
            return extract_file(rel, text, kind, ctx)
        except FileTimeout:
            bound.honoured = True
            return _problem(rel, kind, f"analysis took longer than file_timeout ({timeout:g} s); not analysed")
        except RecursionError:
            return _problem(rel, kind, "too deeply nested to analyse (recursion limit); not analysed")
        except Exception as exc:
            if debug:
                raise
            return internal_error(rel, kind, exc)


class _time_bound:
    """A SIGALRM-based bound, in the main thread of a process (else no bound).

    Python swallows an exception raised while a finalizer or gc callback runs,
    so a one-shot alarm could be lost and the file analysed unbounded. The
    timer therefore keeps firing every 50 ms after the deadline until the
    caller marks the time-out as honoured.
    """

    REPEAT = 0.05

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.active = False
        self.honoured = False

    def __enter__(self):
        import threading

        if self.seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds, self.REPEAT)
            self.active = True
        return self

    def _expired(self, signum, frame):
        if not self.honoured:
            raise FileTimeout()

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _graph_only_revision(text: str):
    """(the graph facts of an Alembic revision that names nothing of the
    tenancy model, whether the file must be parsed in full instead)."""
    if "down_revision" not in text:
        return None, False
    from orgscope.python.alembic import graph_only_revision, looks_like_revision

    revision = graph_only_revision(text)
    return revision, revision is None and looks_like_revision(text)


def _is_internal_failure(facts: FileFacts) -> bool:
    return any(p.message.startswith(("internal error", "analysis took longer")) for p in facts.problems)


def _stat_signature(source: SourceFile) -> list[int] | None:
    """Size, inode and change times of a file on disk: any write to it
    changes its ctime, which no tool sets back. None for text given on stdin."""
    if source.content is not None:
        return None
    try:
        st = source.path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


# A file changed again within the timestamp granularity of its file system
# could keep its signature; a scan is kept only for a file unchanged for
# this long before it was read (git's "racy" rule).
_SETTLED_NS = 2_000_000_000


def _settled(signature: list[int]) -> bool:
    return time.time_ns() - max(signature[2], signature[3]) > _SETTLED_NS


def read_source(source: SourceFile, config: Config) -> tuple[bytes, str, None] | tuple[None, None, FileFacts]:
    """The bytes and text of a UTF-8 file, or the facts to report instead
    (binary, too large, unreadable, not UTF-8)."""
    try:
        size = len(source.content) if source.content is not None else source.path.stat().st_size
        if config.max_file_bytes and size > config.max_file_bytes:
            return None, None, _problem(
                source.rel, source.kind,
                f"file is {size:,} bytes, larger than max_file_bytes ({config.max_file_bytes:,}); not analysed",
            )
        data = source.content if source.content is not None else source.path.read_bytes()
    except OSError as exc:
        return None, None, _problem(source.rel, source.kind, f"cannot read file: {exc.strerror or exc}")
    if b"\x00" in data[:_BINARY_SNIFF]:
        return None, None, FileFacts(path=source.rel, kind=source.kind, notes=[f"skipped binary file {source.rel}"])
    return data, _decode(data), None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # One stray byte (a Latin-1 comment) must not hide the queries around
        # it: the bytes are replaced, the file analysed, and ORG900 says so.
        return data.decode("utf-8-sig", errors="replace")


REPLACEMENT = "\ufffd"


def _decode_problem(source: SourceFile) -> Problem | None:
    """The ORG900 note of a file that is not valid UTF-8 (None when its U+FFFD are its own)."""
    try:
        data = source.content if source.content is not None else source.path.read_bytes()
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = (f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); undecodable bytes "
                   f"were replaced and the rest analysed")
        return Problem(span=Span(line, 1, line, 2), message=message)
    except OSError:
        return None
    return None


def _report_replacement(facts: FileFacts, source: SourceFile) -> None:
    """The rest was analysed; that undecodable bytes were replaced is reported first."""
    problem = _decode_problem(source)
    if problem is not None:
        facts.problems.insert(0, problem)


def _problem(rel: str, kind: str, message: str, line: int = 1) -> FileFacts:
    return FileFacts(path=rel, kind=kind, problems=[Problem(span=Span(line, 1, line, 2), message=message)])
