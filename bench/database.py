"""The benchmarks' own PostgreSQL databases: created on first use, never dropped."""

import subprocess
import sys
from urllib.parse import urlsplit

# Fixed, unlike the secret key: the encrypted rows of a benchmark's database
# outlive a run.
ENCRYPTION_KEYS = "YmVuY2htYXJrLWtleS1ub3QtYS1zZWNyZXQtLS0tLS0="


def ensure_database(url, variable):
    """The database at url, with its role, created if missing; variable names it."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit(f"{variable} must name a PostgreSQL database.")
    found = subprocess.run(
        ["psql", url, "-c", "SELECT 1"], capture_output=True, check=False
    )
    if found.returncode == 0:
        return
    name = parts.path.lstrip("/")
    print("Creating database", name, "owned by", parts.username, flush=True)
    # On a fresh machine only the postgres superuser exists (trust on loopback).
    superuser = ["-h", parts.hostname, "-p", str(parts.port or 5432), "-U", "postgres"]
    role = subprocess.run(
        ["createuser", *superuser, "--createdb", parts.username],
        capture_output=True,
        text=True,
        check=False,
    )
    if role.returncode != 0 and "already exists" not in role.stderr:
        sys.exit(role.stderr)
    subprocess.run(
        ["createdb", *superuser, "--owner", parts.username, name], check=True
    )
