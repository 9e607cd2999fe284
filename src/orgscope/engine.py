"""The pipeline: discover -> extract -> catalog -> rules -> suppress -> report.

Data flows one way. Extraction is per file and pure (text in, facts out), so
it can be cached and run in worker processes; the catalog (replayed schema,
SQLAlchemy models) is built once for the whole project before any query is
judged, whatever files were asked for — pre-commit passes only the staged
files, but a query there still knows a model or an index defined elsewhere.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

from orgscope import __version__
from orgscope.baseline import Baseline
from orgscope.catalog import Catalog, build_catalog, resolve_models
from orgscope.config import Config, expand_codes
from orgscope.discover import Discoverer, SourceFile
from orgscope.facts import FileFacts, Span
from orgscope.findings import SEVERITY_RANK, Finding, Note, RunResult
from orgscope.rules import RULES, Kind, Rule, RuleContext, rule_docs, rules_of
from orgscope.workers import Extractor
from orgscope import suppress


@dataclass
class Options:
    """Run options that are not part of the configuration file."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    only_lines: dict[str, set[int]] | None = None  # diff mode: path -> changed lines
    changed_migrations: bool = True  # diff mode: report schema findings?
    use_cache: bool = True
    jobs: int | None = None
    debug: bool = False
    extra_notes: list[str] = field(default_factory=list)
    stdin: SourceFile | None = None  # `orgscope check -`: the one file checked, its text given
    # False for a run over another tree that shares this project's cache (the
    # merge-base of --diff-base): it must not drop the entries of this one.
    prune_cache: bool = True


def enabled_codes(config: Config, options: Options) -> set[str]:
    """Command-line flags override the file: a code selected on the command line
    is checked even when the file ignores it. Selectors are codes, prefixes
    (ORG0) or ALL; the extend- forms add to whatever selection is in force."""
    known = set(RULES)
    cli_select = expand_codes(options.select, known)
    select = cli_select or expand_codes(config.select, known) or known
    select |= expand_codes(config.extend_select + options.extend_select, known)
    ignore = ((expand_codes(config.ignore + config.extend_ignore, known) - cli_select)
              | expand_codes(options.ignore + options.extend_ignore, known))
    return select - ignore


def per_file_ignored(findings: list[Finding], config: Config) -> list[Finding]:
    """Drop the findings that `per_file_ignores` turns off for their file."""
    if not config.per_file_ignores:
        return findings
    import pathspec

    rules = [(pathspec.GitIgnoreSpec.from_lines([glob]), expand_codes(codes, set(RULES)))
             for glob, codes in config.per_file_ignores]
    return [f for f in findings if not any(f.code in codes and spec.match_file(f.path) for spec, codes in rules)]


def severities(config: Config) -> dict[str, str]:
    docs = rule_docs()
    return {code: config.severity.get(code, doc.severity) for code, doc in docs.items()}


def run(paths: list[Path], config: Config, options: Options | None = None, *,
        baseline: Baseline | None = None) -> RunResult:
    options = options or Options()
    started = time.perf_counter()
    model = config.load_model()
    notes: list[str] = list(options.extra_notes)
    discoverer = Discoverer(config)
    if options.stdin is not None:
        # The text stands in for the file it names; the rest of the project
        # still gives the catalog, as for a single file from pre-commit.
        targets = [options.stdin]
        project = [f for f in discoverer.files([config.root.resolve()], notes) if f.rel != options.stdin.rel]
        project.append(options.stdin)
    else:
        targets = discoverer.files(paths or [config.root], notes)
        project = _project_files(discoverer, paths, config, targets, notes)
    if not targets:
        notes.append(f"no file was checked: no *.py or *.sql file under {_named(paths, config)}")

    target_paths = {f.rel for f in targets}
    extractor = Extractor(config, model, use_cache=options.use_cache, jobs=options.jobs, debug=options.debug)
    notes.extend(extractor.cache.notes)
    # Phase one: what the whole project knows (migrations, models), whatever
    # files were asked for. Phase two: the rest of the targets, whose prefilter
    # now also knows the model class names (`select(Agent)` names no table).
    catalog_files = [f for f in project if extractor.feeds_catalog(f)]
    layer = extractor.infer_data_layer()
    all_facts = extractor.run(catalog_files, layer.names())
    catalog = build_catalog(model, all_facts.values())
    extractor.know_org_views(catalog.org_view_names())
    model_names = frozenset(catalog.models) | layer.names()
    all_facts.update(extractor.run([f for f in targets if f.rel not in all_facts], model_names, gated=True))
    extractor.save(complete=options.prune_cache and options.stdin is None
                   and _whole_project(paths, config, project is targets))

    ctx = RuleContext(model=model, catalog=catalog, severities=severities(config), config=config)
    enabled = enabled_codes(config, options)
    findings: list[Finding] = []
    per_file = [rule for rule in rules_of(Kind.PER_FILE) if rule.code in enabled]
    for source in targets:
        facts = all_facts[source.rel]
        resolve_models(facts, catalog)
        for rule in per_file:
            findings.extend(_safe_check(ctx, rule, facts))
        ctx.forget()
    # Schema findings sit in migrations: reported when that migration is checked.
    for rule in rules_of(Kind.WHOLE_PROJECT):
        if rule.code in enabled:
            findings.extend(f for f in rule.check(ctx) if f.path in target_paths)

    findings = _one_per_token(findings)
    suppressions = {rel: all_facts[rel].suppressions for rel in target_paths if all_facts[rel].suppressions}
    findings, unused = suppress.apply(findings, suppressions, enabled, set(RULES))
    for rule in rules_of(Kind.AFTER_SUPPRESSION):
        if rule.code in enabled:
            findings.extend(rule.check(ctx, unused))
    findings = per_file_ignored(findings, config)
    findings.sort(key=Finding.sort_key)
    # Fingerprints number identical statements within a file, so they are taken
    # before the baseline and the diff filter remove anything.
    suppress.assign_fingerprints(findings)
    baseline_unmatched = 0
    if baseline is not None:
        findings, baseline_unmatched = baseline.apply(findings, target_paths, enabled, config.root)
    if options.only_lines is not None:
        findings = _changed_only(findings, options, all_facts)
    for facts in all_facts.values():
        if facts.path in target_paths:
            notes.extend(facts.notes)
    run_notes = [Note(text) for text in notes] + catalog.warnings
    if project is targets:  # the whole project was read: a wrapper no file calls is not just elsewhere
        run_notes.extend(Note(text) for text in _unmatched_wrappers(config, all_facts.values()))
    return RunResult(
        findings=findings,
        files=len(targets),
        seconds=time.perf_counter() - started,
        version=__version__,
        notes=run_notes,
        baseline_unmatched=baseline_unmatched,
    )


def build_project_catalog(paths: list[Path], config: Config, options: Options | None = None) -> Catalog:
    """The catalog alone (for `orgscope schema`): migrations and models under paths."""
    options = options or Options()
    model = config.load_model()
    discoverer = Discoverer(config)
    extractor = Extractor(config, model, use_cache=options.use_cache, jobs=options.jobs)
    files = [f for f in discoverer.files(paths or [config.root], []) if extractor.feeds_catalog(f)]
    return build_catalog(model, extractor.run(files).values())


def _named(paths: list[Path], config: Config) -> str:
    return ", ".join(str(p) for p in paths) if paths else str(config.root)


def _unmatched_wrappers(config: Config, all_facts) -> list[str]:
    """A configured query wrapper that matches no call is probably misspelt (or stale)."""
    called = {name for facts in all_facts for name in facts.wrapper_calls}
    where = config.source or "the configuration"
    return [f"{where}: query_wrappers: {wrapper.call!r} matches no call in the checked files"
            for wrapper in config.query_wrappers if wrapper.call not in called]


def inferred_layout(paths: list[Path], config: Config):
    """What `orgscope init` shows: the data-access layer orgscope infers under
    paths, and the relative paths of the files it would check."""
    discoverer = Discoverer(config)
    files = discoverer.files(paths or [config.root], [])
    extractor = Extractor(config, config.load_model(), use_cache=False, jobs=1)
    for source in files:
        extractor.feeds_catalog(source)
    return extractor.infer_data_layer(), [f.rel for f in files]


def _whole_project(paths, config, folders_only: bool) -> bool:
    """Whether the run saw every file under the config root (`orgscope check`
    or `orgscope check .`): only such a run may drop from the cache what it
    did not use."""
    if not paths:
        return True
    root = config.root.resolve()
    return folders_only and any(Path(p).resolve() == root for p in paths)


def _project_files(discoverer, paths, config, targets, notes) -> list[SourceFile]:
    """Every file of the project, for the catalog.

    Folders given on the command line are the project (`orgscope check
    examples/demo-app` checks that tree on its own). Single files, as
    pre-commit passes them, are judged against the whole project under the
    config root, so that a staged query still knows every model and index.
    """
    if not paths or all(Path(p).is_dir() for p in paths):
        return targets
    return discoverer.files([config.root.resolve()], [])


# Where two rules report the same token, the one that says more wins (SPEC
# section 10): `client_id` on an org table is ORG003, not also ORG006.
_SAME_TOKEN_PREFERENCE = {"ORG006": "ORG003"}


def _one_per_token(findings: list[Finding]) -> list[Finding]:
    """One finding per offending token: a payload dict used by two inserts is
    reported once, and ORG006 gives way to ORG003 on the same key."""
    seen: set[tuple] = set()
    codes_at: dict[tuple, set[str]] = {}
    for finding in findings:
        codes_at.setdefault((finding.path, finding.line, finding.column), set()).add(finding.code)
    kept = []
    for finding in findings:
        where = (finding.path, finding.line, finding.column)
        if _SAME_TOKEN_PREFERENCE.get(finding.code) in codes_at[where]:
            continue
        if (where, finding.code) in seen:
            continue
        seen.add((where, finding.code))
        kept.append(finding)
    return kept


def _safe_check(ctx: RuleContext, rule: Rule, facts: FileFacts) -> list[Finding]:
    try:
        return list(rule.check(ctx, facts))
    except Exception as exc:  # a rule bug on one file is reported, never a crash
        span = Span(1, 1, 1, 2)
        message = f"internal error in {rule.code}: {type(exc).__name__}: {exc}"
        return [ctx.finding("ORG900", facts.path, span, message)]


def _changed_only(findings: list[Finding], options: Options, all_facts: dict[str, FileFacts]) -> list[Finding]:
    """Diff mode: keep a finding when a changed line falls on it or inside the
    statement or call it belongs to (removing the scoping line of a query
    counts as changing that query); keep the schema findings (ORG002, ORG004)
    when the change touches a migration, wherever the finding sits (deleting
    the migration that created an index is reported in an older migration)."""
    lines = {path: sorted(numbers) for path, numbers in (options.only_lines or {}).items()}
    schema_codes = {rule.code for rule in rules_of(Kind.WHOLE_PROJECT)}
    kept = []
    for finding in findings:
        if finding.code in schema_codes:
            if options.changed_migrations:
                kept.append(finding)
            continue
        changed = lines.get(finding.path)
        facts = all_facts.get(finding.path)
        if changed and _whole_file_problem(finding, facts):
            kept.append(finding)  # a change anywhere can make a file unanalysable
        elif changed and any(_any_between(changed, first, last) for first, last in _finding_ranges(finding, facts)):
            kept.append(finding)
    return kept


def _whole_file_problem(finding: Finding, facts: FileFacts | None) -> bool:
    """An ORG900 about the file itself (too large, not parsable, timed out):
    it belongs to no statement and the file yielded no query."""
    return finding.code == "ORG900" and finding.statement_line is None and facts is not None and not facts.queries


def _finding_ranges(finding: Finding, facts: FileFacts | None) -> list[tuple[int, int]]:
    """The lines of the finding itself and of each statement or call holding it."""
    ranges = [(finding.line, max(finding.line, finding.end_line))]
    if finding.statement_line:
        ranges.append((finding.statement_line, finding.statement_line))
    for query in facts.queries if facts is not None else ():
        span = query.span
        if span.line <= finding.line <= span.end_line or span.line == finding.statement_line:
            ranges.append((span.line, span.end_line))
    return ranges


def _any_between(sorted_lines: list[int], first: int, last: int) -> bool:
    i = bisect_left(sorted_lines, first)
    return i < len(sorted_lines) and sorted_lines[i] <= last


def exit_code(result: RunResult, fail_on: str) -> int:
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK.get(f.severity, 2) >= threshold for f in result.findings) else 0


__all__ = ["Options", "run", "exit_code", "Catalog"]
