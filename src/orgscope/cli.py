"""The command line: parse options, call the engine, pick a reporter.

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage, config or
internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from orgscope import __version__
from orgscope.config import SEVERITIES, Config, check_code, configs_for_paths, resolve_config
from orgscope.errors import OrgscopeError
from orgscope.report import FORMATS

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Group(click.Group):
    """Turns every OrgscopeError into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OrgscopeError as exc:
            click.echo(f"orgscope: error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="orgscope")
def main() -> None:
    """orgscope: keep every query scoped to its organization.

    Reads SQL migrations and query files and Python query code, and reports
    queries on org tables without a clerk_org_id predicate, missing org
    indexes, legacy client_id scoping and related tenancy bugs.

    \b
    Examples:
      orgscope check                       # the repository in the current folder
      orgscope check src/ queries/ --format concise
      orgscope rules                       # list the rules
      orgscope rule ORG001                 # one rule's documentation
      orgscope schema                      # the org tables after replaying the migrations
      orgscope fix --indexes --dry-run     # the migration that adds the missing org indexes
      orgscope init                        # a commented .orgscope.yaml to start from
    """


def _load(config_path: str | None, rule_pack: str | None = None) -> Config:
    return resolve_config(config_path, rule_pack, Path.cwd())


def _codes(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    from orgscope.rules import known_codes

    codes = []
    for value in values:
        for code in value.split(","):
            if code.strip():
                check_code(code.strip(), known_codes(), "command line", option)
                codes.append(code.strip().upper())
    return tuple(codes)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--config", "config_args", multiple=True, metavar="FILE | KEY=VALUE",
              help="A config file (default: the nearest .orgscope.yaml or pyproject.toml with [tool.orgscope], "
                   "walking up from each path), or a `key = value` override in TOML, such as "
                   "--config 'fail_on = \"warning\"' (repeatable).")
@click.option("--isolated", is_flag=True, help="Read no config file (--config overrides still apply).")
@click.option("--rule-pack", metavar="FILE", help="Use this tenancy rule pack instead of the configured or bundled one.")
@click.option("--output-format", "--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format (--format is the same option).")
@click.option("--output", "-o", metavar="FILE", type=click.Path(path_type=Path), help="Write the report to FILE instead of standard output.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None, help="Lowest severity that makes the exit code 1 [default: error].")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules (comma-separated, repeatable).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Not these rules (comma-separated, repeatable).")
@click.option("--extend-select", multiple=True, metavar="CODES", help="These rules on top of the selection in force.")
@click.option("--extend-ignore", multiple=True, metavar="CODES", help="Not these rules either (like --ignore).")
@click.option("--exit-zero", is_flag=True, help="Exit code 0 even when findings reach --fail-on (2 still means an error).")
@click.option("--show-files", is_flag=True, help="List the files that would be checked, with their kind, and exit.")
@click.option("--show-settings", is_flag=True, help="Print the settings each checked path runs with, and exit.")
@click.option("--show-source/--no-show-source", default=True, help="Show the source line and a caret under each finding (text format).")
@click.option("--statistics", is_flag=True, help="Also print how many findings each rule produced.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing; only the exit code tells.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True, help="Colour in text output (auto: on a terminal, unless NO_COLOR is set).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", metavar="DIR", type=click.Path(path_type=Path), envvar="ORGSCOPE_CACHE_DIR",
              help="Cache folder [default: cache_dir from the config, else a per-user cache folder; "
                   "env: ORGSCOPE_CACHE_DIR].")
@click.option("--stdin-filename", metavar="PATH", help="With the path `-`: the name of the file standard input "
              "holds (its kind, and where its findings are reported) [default: SQL, reported as `-`].")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None, help="Worker processes (0: one per core).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--diff-base", metavar="REV", help="Only report findings on lines changed since the merge-base of REV and "
              "HEAD (plus schema findings when a migration changed): the pull-request gate.")
@click.option("--baseline", "baseline_path", metavar="FILE", type=click.Path(path_type=Path),
              help="Do not report the findings recorded in this baseline file.")
@click.option("--write-baseline", "write_baseline_path", metavar="FILE", type=click.Path(path_type=Path),
              help="Record the current findings in FILE (a baseline) instead of reporting them; exit code 0.")
@click.option("--force", is_flag=True, help="Let --write-baseline overwrite an existing file.")
def check(paths, config_args, isolated, rule_pack, fmt, output, fail_on, select, ignore, extend_select, extend_ignore,
          exit_zero, show_files, show_settings, show_source, statistics, quiet, color, no_cache, cache_dir, stdin_filename, jobs, debug, diff_base, baseline_path, write_baseline_path, force) -> None:
    """Check PATHS (default: the current folder) and report findings.

    \b
    Examples:
      orgscope check
      orgscope check app/ queries/ --select ORG001,ORG003
      orgscope check --format sarif --output orgscope.sarif
      orgscope check --fail-on warning --statistics
      orgscope check --diff-base origin/main --format github     # pull-request gate
      orgscope check --write-baseline orgscope-baseline.json     # adopt on an existing codebase
      orgscope check --baseline orgscope-baseline.json           # then fail only on new findings
    """
    from orgscope.engine import exit_code
    from orgscope.report import render
    from orgscope.rules import rule_docs

    if write_baseline_path is not None and (baseline_path is not None or diff_base):
        # A baseline records every finding: filtering first would silently drop entries.
        raise click.UsageError("--write-baseline records every current finding; it cannot be combined with "
                               "--baseline or --diff-base")
    if force and write_baseline_path is None:
        raise click.UsageError("--force only applies to --write-baseline")
    if stdin_filename is not None and list(map(str, paths)) != ["-"]:
        raise click.UsageError("--stdin-filename names what `-` reads: give `-` as the only path")
    reading_stdin = "-" in map(str, paths)
    if reading_stdin and len(paths) != 1:
        raise click.UsageError("`-` (standard input) must be the only path")
    # Standard input is governed by the config of the file it names.
    where = [Path(stdin_filename)] if reading_stdin and stdin_filename else [] if reading_stdin else list(paths)
    config_path, overrides = _config_args(config_args)
    projects = configs_for_paths(where, config_path, rule_pack, Path.cwd(), overrides=overrides, isolated=isolated)
    if show_files or show_settings:
        _show(projects, show_files, show_settings, cache_dir)
        sys.exit(EXIT_OK)
    if len(projects) > 1 and (baseline_path is not None or write_baseline_path is not None):
        raise click.UsageError("the paths belong to projects with different configurations; use a baseline "
                               "with one project at a time")
    baseline = None
    if baseline_path is not None:
        from orgscope.baseline import load_baseline

        baseline = load_baseline(baseline_path)
    stdin_data = click.get_binary_stream("stdin").read() if reading_stdin else None
    results = []
    with ProgressLine(sys.stderr, enabled=fmt in HUMAN_FORMATS and not quiet):
        for config, project_paths in projects:
            results.append(_check_project(config, project_paths, cache_dir=cache_dir, select=select, ignore=ignore,
                                          extend_select=extend_select, extend_ignore=extend_ignore,
                                          no_cache=no_cache, jobs=jobs, debug=debug, diff_base=diff_base,
                                          baseline=baseline, stdin=(stdin_filename, stdin_data) if reading_stdin
                                          else None))
    root, result = _combined(results)
    config = results[0][0]

    if write_baseline_path is not None:
        from orgscope.baseline import write_baseline

        count = write_baseline(write_baseline_path, result.findings, force=force)
        if not quiet:
            entries = "1 finding" if count == 1 else f"{count} findings"
            click.echo(f"Wrote {entries} to the baseline {write_baseline_path}; check with "
                       f"--baseline {write_baseline_path} to report only new findings")
        sys.exit(EXIT_OK)

    if result.files == 0 and not quiet:
        # Said on standard error too, since not every format has room for it.
        click.echo("orgscope: warning: no file was checked (no *.py or *.sql file under the given paths)", err=True)
    use_color = _color(color, output)
    text = render(fmt, result, root=root, docs=rule_docs(), color=use_color, show_source=show_source,
                  statistics=statistics)
    if output is not None:
        from orgscope.writes import write_output

        try:
            write_output(output, text)
        except OSError as exc:
            raise OrgscopeError(f"cannot write {output}: {exc.strerror or exc}") from None
    elif not quiet:
        click.echo(text, nl=False, color=use_color)
    sys.exit(EXIT_OK if exit_zero else max(exit_code(r, fail_on or c.fail_on) for c, r in results))


def _check_project(config: Config, project_paths, *, cache_dir, select, ignore, extend_select, extend_ignore,
                   no_cache, jobs, debug, diff_base, baseline, stdin):
    """One project's run: its config, its options, its diff and the findings new since the merge-base."""
    from orgscope.engine import Options, run

    if cache_dir is not None:
        config = config.with_overrides(cache_dir=str(cache_dir.absolute()))
    options = Options(select=_codes(select, "--select"), ignore=_codes(ignore, "--ignore"),
                      extend_select=_codes(extend_select, "--extend-select"),
                      extend_ignore=_codes(extend_ignore, "--extend-ignore"),
                      use_cache=not no_cache, jobs=jobs, debug=debug)
    if stdin is not None:
        options.stdin = _stdin_source(config, *stdin)
        project_paths = []
    if diff_base:
        from orgscope.discover import Discoverer
        from orgscope.gitdiff import changed_lines, touches_migrations

        diff = changed_lines(config.root, diff_base)
        options.only_lines = diff.lines
        options.changed_migrations = touches_migrations(diff, Discoverer(config).classify)
    try:
        result = run(list(project_paths), config, options, baseline=baseline)
        if diff_base and result.findings:
            result.findings = _new_since_base(result.findings, config, options, diff, list(project_paths))
        return config, result
    except OrgscopeError:
        raise
    except Exception as exc:  # the last line of defence: a clear message, exit 2
        if debug:
            traceback.print_exc()
        raise OrgscopeError(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)") from None


HUMAN_FORMATS = ("text", "concise")


class ProgressLine:
    """On a terminal, a run that takes more than `after` seconds says it is
    under way (one line on standard error, erased when the run ends). Never in
    a pipe or a file, and never for a machine format."""

    def __init__(self, stream, *, enabled: bool = True, after: float = 1.0) -> None:
        import threading

        self.stream = stream
        self.shown = False
        wanted = enabled and getattr(stream, "isatty", lambda: False)()
        self.timer = threading.Timer(after, self._show) if wanted else None
        if self.timer is not None:
            self.timer.daemon = True

    def _show(self) -> None:
        self.stream.write("orgscope: checking\u2026")
        self.stream.flush()
        self.shown = True

    def __enter__(self) -> "ProgressLine":
        if self.timer is not None:
            self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer.join()
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _config_args(values: tuple[str, ...]) -> tuple[str | None, dict]:
    """`--config` values: at most one file, any number of `key = value` overrides."""
    from orgscope.config import parse_override

    files = [v for v in values if Path(v).is_file() or "=" not in v]
    if len(files) > 1:
        raise click.UsageError("--config names one file; the other --config values must be `key = value`")
    overrides: dict = {}
    for value in values:
        if value not in files:
            overrides.update(parse_override(value))
    return (files[0] if files else None), overrides


def _show(projects, files: bool, settings: bool, cache_dir) -> None:
    """--show-files: each file and its kind; --show-settings: each project's resolved settings."""
    from dataclasses import fields

    from orgscope.discover import Discoverer
    from orgscope.workers import cache_folder

    for config, paths in projects:
        if settings:
            if cache_dir is not None:
                config = config.with_overrides(cache_dir=str(cache_dir.absolute()))
            click.echo(f"Settings for {', '.join(map(str, paths)) or '.'}:")
            click.echo(f"  config file: {config.source or '(none: defaults)'}")
            for item in fields(config):
                click.echo(f"  {item.name}: {_shown(getattr(config, item.name))}")
            click.echo(f"  cache folder: {cache_folder(config)}")
            _show_inferred_wrappers(config, paths)
        if files:
            for source in Discoverer(config).files(list(paths) or [config.root], []):
                click.echo(f"{source.path}  ({source.kind})")


def _show_inferred_wrappers(config: Config, paths) -> None:
    """The data-access layer orgscope inferred (SPEC section 10), with where each was found."""
    from orgscope.engine import inferred_layout

    layer, _ = inferred_layout(list(paths), config)
    click.echo(f"  inferred query wrappers: {len(layer.wrappers)}")
    for wrapper in layer.wrappers:
        click.echo(f"    {wrapper.call} ({wrapper.op}, adds the org filter: {wrapper.org})  # {wrapper.source}")


def _shown(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def _stdin_source(config: Config, name: str | None, data: bytes):
    from orgscope.discover import Discoverer, SourceFile

    if name is None:
        return SourceFile(config.root / "-", "-", "sql", content=data)
    path = Path(name).absolute()
    discoverer = Discoverer(config)
    rel = discoverer.relative(path)
    kind = discoverer.classify(rel)
    if kind is None:
        raise click.UsageError(f"--stdin-filename {name}: orgscope checks *.py and *.sql files")
    return SourceFile(path, rel, kind, content=data)


def _new_since_base(findings: list, config: Config, options, diff, paths: list[Path]) -> list:
    """The findings whose fingerprint (rule, path, table, statement) does not
    exist at the merge-base: moving a function or a query is no new finding.
    The base is checked with the same config, reusing the cache for files
    the branch left unchanged."""
    import tempfile
    from dataclasses import replace

    from orgscope.engine import Options, run
    from orgscope.gitdiff import write_base_tree
    from orgscope.workers import cache_folder

    with tempfile.TemporaryDirectory(prefix="orgscope-base-") as tmp:
        base_root = write_base_tree(diff, Path(tmp))
        base_config = replace(config, root=base_root,
                              cache_dir=str(cache_folder(config).absolute()) if options.use_cache else None)
        base_paths = []
        for given in paths:
            rel = os.path.relpath((given if given.is_absolute() else Path.cwd() / given).resolve(), config.root.resolve())
            if (base_root / rel).exists():
                base_paths.append(base_root / rel)
        if paths and not base_paths:
            return findings  # none of the checked paths existed at the base
        base_options = Options(select=options.select, ignore=options.ignore, use_cache=options.use_cache,
                               jobs=options.jobs, prune_cache=False)
        old = {f.fingerprint for f in run(base_paths or [base_root], base_config, base_options).findings}
    return [f for f in findings if f.fingerprint not in old]


def _combined(results: list) -> tuple[Path, "RunResult"]:
    """One report for the projects of a run. With one project, paths stay
    relative to its config's folder; with several, each finding's path is
    prefixed with its project's folder, relative to the folder they share."""
    from dataclasses import replace

    from orgscope.findings import RunResult

    if len(results) == 1:
        config, result = results[0]
        return config.root, result
    roots = [config.root.resolve() for config, _ in results]
    base = Path(os.path.commonpath(roots))
    findings = []
    for (config, result), root in zip(results, roots):
        prefix = root.relative_to(base).as_posix()
        findings.extend(replace(f, path=f"{prefix}/{f.path}" if prefix != "." else f.path) for f in result.findings)
    findings.sort(key=lambda f: f.sort_key())
    return base, RunResult(
        findings=findings,
        files=sum(r.files for _, r in results),
        seconds=sum(r.seconds for _, r in results),
        version=results[0][1].version,
        notes=[note for _, r in results for note in r.notes],
        baseline_unmatched=sum(r.baseline_unmatched for _, r in results),
    )


def _color(choice: str, output: Path | None) -> bool:
    """--color, then NO_COLOR (off), then FORCE_COLOR (on), then: is it a terminal?"""
    if choice == "always":
        return True
    if choice == "never" or output is not None or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


@main.command("rules")
def list_rules() -> None:
    """List every rule with its code, name, default severity and summary.

    \b
    Example:
      orgscope rules
    """
    from orgscope.rules import rule_docs

    for doc in rule_docs().values():
        click.echo(f"{doc.code}  {doc.name:<22} {doc.severity:<8} {doc.summary}")


@main.command("rule")
@click.argument("code")
def show_rule(code: str) -> None:
    """Print the documentation of one rule: what it finds, why, how to fix it.

    \b
    Example:
      orgscope rule ORG001
    """
    from orgscope.rules import rule_docs

    docs = rule_docs()
    doc = docs.get(code.upper())
    if doc is None:
        raise OrgscopeError(f"unknown rule {code!r} (known: {', '.join(docs)})")
    click.echo(format_rule_doc(doc))


def format_rule_doc(doc) -> str:
    parts = [f"{doc.code} {doc.name} ({doc.severity})", "", doc.summary, ""]
    if doc.why:
        parts += ["Why is this bad?", _indent(doc.why), ""]
    if doc.bad:
        parts += ["Example (reported):", *(_example(e) for e in doc.bad[:2]), ""]
    if doc.good:
        parts += ["Use instead:", *(_example(e) for e in doc.good[:2]), ""]
    if doc.fix:
        parts += ["How to fix:", _indent(doc.fix), ""]
    if doc.notes:
        parts += ["Notes:", _indent(doc.notes), ""]
    if doc.options:
        parts.append("Options:")
        parts += [f"  {o.get('name')}: {o.get('description', '')} (default: {o.get('default')})" for o in doc.options]
    return "\n".join(parts).rstrip() + "\n"


def _indent(text: str) -> str:
    return "\n".join(("  " + line) if line else "" for line in text.strip().splitlines())


def _example(example: dict) -> str:
    lines = []
    if example.get("description"):
        lines.append(f"  # {example['description']}")
    for path, content in (example.get("files") or {}).items():
        lines.append(f"  -- {path}")
        lines += ["  " + line for line in str(content).rstrip().splitlines()]
    return "\n".join(lines)


@main.command("schema")
@click.option("--config", "config_path", metavar="FILE", help="Config file (default: found by walking up).")
@click.option("--rule-pack", metavar="FILE", help="Use this tenancy rule pack.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: each org table in words; json: every table, column, index, policy and type, for "
                   "scripts (the shape is in the README).")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def show_schema(config_path, rule_pack, fmt, paths) -> None:
    """Show each org table after replaying the migrations: where it is created,
    whether it has the org column, and its usable org index (or why not); the
    migration tool and order used, and the statements PostgreSQL would refuse.

    \b
    Example:
      orgscope schema
      orgscope schema examples/demo-app
      orgscope schema --format json | jq '.tables[] | select(.org_table)'
    """
    from orgscope.engine import build_project_catalog
    from orgscope.migration_order import describe_plan, render_plan_text
    from orgscope.report.schema_text import render_schema_text
    from orgscope.rules.row_security import policy_verdicts, security_lines

    config = _load(config_path, rule_pack)
    catalog = build_project_catalog(list(paths), config)
    if fmt == "json":
        from orgscope.report.schema_json import render_schema_json

        click.echo(render_schema_json(catalog.schema, catalog.model, describe_plan(catalog.plan),
                                      lambda table: policy_verdicts(table, catalog, catalog.model)), nl=False)
        return
    click.echo(render_plan_text(catalog.plan), nl=False)
    click.echo()
    click.echo(render_schema_text(catalog.schema, catalog.model,
                                  lambda table: security_lines(table, catalog, catalog.model)), nl=False)


@main.command("fix", short_help="Write a migration that creates the missing org indexes (--indexes).")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--indexes", is_flag=True, help="Write one new SQL migration creating every missing org index (ORG002).")
@click.option("--dry-run", is_flag=True, help="Print the migration's path and content instead of writing it.")
@click.option("--force", is_flag=True, help="Overwrite the migration file if one of that name already exists.")
@click.option("--config", "config_path", metavar="FILE", help="Config file (default: found by walking up).")
@click.option("--rule-pack", metavar="FILE", help="Use this tenancy rule pack.")
def fix(paths, indexes, dry_run, force, config_path, rule_pack) -> None:
    """Fix what can be fixed safely: --indexes writes a migration that creates
    each missing org index, CONCURRENTLY, next to the last SQL migration and
    numbered after it (013_add_org_indexes.sql after 012_x.sql, or a UTC
    timestamp for timestamped migrations). Exit code 1 when a table could not
    be fixed.

    \b
    Examples:
      orgscope fix --indexes --dry-run     # show the migration
      orgscope fix --indexes               # write it
    """
    if not indexes:
        raise click.UsageError("say what to fix: --indexes (missing org indexes) is the fix orgscope makes")
    from orgscope.fix_indexes import plan_index_fix
    from orgscope.writes import write_atomic

    config = _load(config_path, rule_pack)
    plan = plan_index_fix(list(paths), config)
    if plan is None:
        click.echo("Every org table has an index leading with the org column: nothing to fix")
        sys.exit(EXIT_OK)
    for reason in plan.skipped:
        click.echo(f"orgscope: cannot fix {reason}", err=True)
    if plan.fixes:
        if dry_run:
            click.echo(f"Would write {plan.rel}:\n")
            click.echo(plan.text, nl=False)
        else:
            try:
                write_atomic(plan.path, plan.text, overwrite=force)
            except OSError as exc:
                raise OrgscopeError(f"{plan.rel}: cannot write the migration: {exc.strerror or exc}") from None
            tables = ", ".join(fix.table for fix in plan.fixes)
            click.echo(f"Wrote {plan.rel}: {len(plan.fixes)} org index(es) for {tables}")
    sys.exit(EXIT_FINDINGS if plan.skipped else EXIT_OK)


@main.command("init", short_help="Write a commented configuration to start from.")
@click.option("--pyproject", is_flag=True, help="Append a [tool.orgscope] section to pyproject.toml instead "
              "(never replaces an existing one).")
@click.option("--force", is_flag=True, help="Overwrite an existing .orgscope.yaml.")
def init(pyproject, force) -> None:
    """Write a configuration to start from, in the current folder: a
    .orgscope.yaml (or a [tool.orgscope] section in pyproject.toml) listing
    every key, commented out, with its default and what it does.

    \b
    Examples:
      orgscope init                 # writes .orgscope.yaml
      orgscope init --pyproject     # appends [tool.orgscope] to pyproject.toml
    """
    from orgscope.config import Config
    from orgscope.engine import inferred_layout
    from orgscope.init_config import (
        PYPROJECT_NAME, YAML_NAME, Findings, append_pyproject_section, hand_run_folders, write_yaml_config,
    )

    folder = Path.cwd()
    if pyproject and force:
        raise click.UsageError("--force only applies to .orgscope.yaml; an existing [tool.orgscope] section "
                               "is never replaced")
    # What the project's own code says: its data-access layer, its hand-run SQL folders.
    layer, files = inferred_layout([folder], Config(root=folder))
    found = Findings(wrappers=layer.wrappers, hand_run_folders=hand_run_folders(files))
    if pyproject:
        path = append_pyproject_section(folder, found)
        if (folder / YAML_NAME).is_file():
            click.echo(f"orgscope: note: {YAML_NAME} in this folder takes precedence over {PYPROJECT_NAME}", err=True)
    else:
        path = write_yaml_config(folder, force=force, found=found)
    click.echo(f"Wrote {path.name}: every key is commented out with its default; uncomment what you change")
    if found.wrappers:
        click.echo(f"orgscope found {len(found.wrappers)} query wrapper(s) in the code; they are listed, commented")


def _register_optional_commands() -> None:
    from orgscope.livedb import db_command

    main.add_command(db_command)


_register_optional_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
