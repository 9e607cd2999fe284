"""A throw-away PostgreSQL server for the tests that compare orgscope with the real thing.

`start_server()` runs initdb in a fresh temporary folder and starts the server
with pg_ctl on a free port of 127.0.0.1 (and a Unix socket in that folder), with
trust authentication and nothing shared with any other server on the machine.
`stop()` shuts it down and removes the folder.

Tests run as root in CI, and initdb refuses to run as root: the server then runs
as the `postgres` system user (the Debian package creates it) through `runuser`.

The binaries are looked for under /usr/lib/postgresql/*/bin (the Debian layout,
newest version first), then on PATH. `.ci/postgres.sh` installs the Debian
`postgresql` package when none is found.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


# What a Supabase database gives every migration: the request roles and the
# auth functions over the JWT claims PostgREST sets for each request.
SUPABASE_BASICS = """
DO $$ BEGIN
    CREATE ROLE authenticated NOLOGIN; CREATE ROLE anon NOLOGIN; CREATE ROLE service_role NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO authenticated, anon, service_role;
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS
    $$ SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb $$;
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
    $$ SELECT nullif(auth.jwt() ->> 'sub', '')::uuid $$;
"""


class ServerUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def find_binaries() -> Path | None:
    """The folder that holds initdb, pg_ctl and postgres, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_of, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for folder in candidates:
        if all(os.access(Path(folder) / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _version_of(folder: str) -> tuple[int, ...]:
    match = re.search(r"/postgresql/([\d.]+)/", folder)
    return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    folder: Path  # holds the data directory, the socket and the log
    bin_dir: Path
    port: int
    run_as: str | None  # the system user the server runs as, when we are root

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres", autocommit: bool = True):
        import psycopg

        return psycopg.connect(self.dsn(dbname), autocommit=autocommit, connect_timeout=10)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its DSN."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        _run(self._as_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w",
                            "stop"]), check=False, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _as_user(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *command] if self.run_as else command

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server() -> Server:
    """Start a fresh server, or raise ServerUnavailable saying exactly why not."""
    try:
        import psycopg  # noqa: F401  (the tests talk to the server through it)
    except ImportError:
        raise ServerUnavailable("psycopg is not installed (pip install 'orgscope[db]')") from None
    bin_dir = find_binaries()
    if bin_dir is None:
        raise ServerUnavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin or on PATH;"
            " run .ci/postgres.sh to install them"
        )
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ServerUnavailable("running as root and there is no 'postgres' system user to run initdb as") from None
        if shutil.which("runuser") is None:
            raise ServerUnavailable("running as root and runuser is missing, so initdb cannot drop root")
        run_as = "postgres"

    folder = Path(tempfile.mkdtemp(prefix="orgscope-pg-"))
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = Server(folder=folder, bin_dir=bin_dir, port=_free_port(), run_as=run_as)
    try:
        _run(server._as_user([str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", "postgres",
                              "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]), timeout=120)
        options = (f"-c listen_addresses=127.0.0.1 -p {server.port} -c unix_socket_directories={folder}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        _run(server._as_user([str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(server.log_file),
                              "-o", options, "-w", "-t", "60", "start"]), timeout=90)
        _wait_until_ready(server)
    except (ServerUnavailable, OSError) as exc:
        tail = server.log_tail()
        server.stop()
        raise ServerUnavailable(f"{exc}" + (f"\nserver log:\n{tail}" if tail else "")) from None
    return server


def _wait_until_ready(server: Server, seconds: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with server.connect() as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"the server did not accept connections: {exc}") from None
            time.sleep(0.2)


def _run(command: list[str], *, check: bool = True, timeout: float) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ServerUnavailable(f"{' '.join(command)} did not finish within {timeout:g} s") from None
    if check and done.returncode != 0:
        raise ServerUnavailable(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return done
