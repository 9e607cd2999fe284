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
from orgscope.config import SEVERITIES, Config, check_code, find_config, load_config
from orgscope.errors import ConfigError, OrgscopeError
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
    """


def _load(config_path: str | None, rule_pack: str | None = None) -> Config:
    from orgscope.rules import known_codes

    cwd = Path.cwd()
    path = Path(config_path) if config_path else find_config(cwd)
    if config_path and not path.is_file():
        raise ConfigError(config_path, None, "configuration file not found")
    config = load_config(path, cwd, known_codes())
    if rule_pack:
        pack = Path(rule_pack)
        if not pack.is_file():
            raise ConfigError(rule_pack, "--rule-pack", "rule pack file not found")
        config = config.with_overrides(rule_pack=pack.resolve())
    return config


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
@click.option("--config", "config_path", metavar="FILE", help="Config file (default: the nearest .orgscope.yaml or pyproject.toml with [tool.orgscope]).")
@click.option("--rule-pack", metavar="FILE", help="Use this tenancy rule pack instead of the configured or bundled one.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", metavar="FILE", type=click.Path(path_type=Path), help="Write the report to FILE instead of standard output.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None, help="Lowest severity that makes the exit code 1 [default: error].")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules (comma-separated, repeatable).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Not these rules (comma-separated, repeatable).")
@click.option("--show-source/--no-show-source", default=True, help="Show the source line and a caret under each finding (text format).")
@click.option("--statistics", is_flag=True, help="Also print how many findings each rule produced.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing; only the exit code tells.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True, help="Colour in text output (auto: on a terminal, unless NO_COLOR is set).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None, help="Worker processes (0: one per core).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def check(paths, config_path, rule_pack, fmt, output, fail_on, select, ignore, show_source, statistics, quiet, color,
          no_cache, jobs, debug) -> None:
    """Check PATHS (default: the current folder) and report findings.

    \b
    Examples:
      orgscope check
      orgscope check app/ queries/ --select ORG001,ORG003
      orgscope check --format sarif --output orgscope.sarif
      orgscope check --fail-on warning --statistics
    """
    from orgscope.engine import Options, exit_code, run
    from orgscope.report import render
    from orgscope.rules import rule_docs

    config = _load(config_path, rule_pack)
    options = Options(
        select=_codes(select, "--select"),
        ignore=_codes(ignore, "--ignore"),
        use_cache=not no_cache,
        jobs=jobs,
        debug=debug,
    )
    try:
        result = run(list(paths), config, options)
    except OrgscopeError:
        raise
    except Exception as exc:  # the last line of defence: a clear message, exit 2
        if debug:
            traceback.print_exc()
        raise OrgscopeError(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)") from None

    use_color = _color(color, output)
    text = render(fmt, result, root=config.root, docs=rule_docs(), color=use_color, show_source=show_source,
                  statistics=statistics)
    if output is not None:
        from orgscope.writes import write_atomic

        write_atomic(output, text, overwrite=True)
    elif not quiet:
        click.echo(text, nl=False)
    sys.exit(exit_code(result, fail_on or config.fail_on))


def _color(choice: str, output: Path | None) -> bool:
    if choice == "always":
        return True
    if choice == "never" or output is not None or os.environ.get("NO_COLOR"):
        return False
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
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def show_schema(config_path, rule_pack, paths) -> None:
    """Show each org table after replaying the migrations: where it is created,
    whether it has the org column, and its usable org index (or why not).

    \b
    Example:
      orgscope schema
      orgscope schema examples/demo-app
    """
    from orgscope.engine import build_project_catalog
    from orgscope.schema import render_schema_text

    config = _load(config_path, rule_pack)
    catalog = build_project_catalog(list(paths), config)
    click.echo(render_schema_text(catalog.schema, catalog.model), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
