"""The local development `.env` file: read by settings, written once by `make setup`.

Why a file and not `export DEBUG=true` in the Makefile only: a developer types
`.venv/bin/python manage.py createsuperuser` in a plain shell, where nothing is exported. The file
gives every command run from the checkout the same development settings (DEBUG on, a key
generated for this checkout) without the settings module ever defaulting to DEBUG.

`make setup` also records DATABASE_URL and REDIS_URL when they are set for it, so
`DATABASE_URL=postgres://... make setup` is followed by commands on the same database.

Production stays strict: the file is git-ignored and never copied into the image, `make serve`
does not write it, and a real environment variable always wins over a line of the file (an
exported `DEBUG=false`, even an empty `SECRET_KEY=`, is kept as it is).

Format: `NAME=value` lines; blank lines and `#` comments are ignored; a value may be wrapped in
single or double quotes. Nothing is expanded or evaluated.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


class EnvFileError(ValueError):
    """A line of the file is not `NAME=value`."""


def parse(text: str, *, source: str = ".env") -> dict[str, str]:
    """The `NAME=value` pairs of an env file, in order; a malformed line raises EnvFileError."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise EnvFileError(f"{source}, line {number}: expected NAME=value, got {raw!r}")
        name, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def load(path: Path, environ: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """Copy the file's values into `environ` where the name is not set already (the real
    environment wins). Returns the names it set; a missing file sets nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    loaded = []
    for name, value in parse(text, source=str(path)).items():
        if name not in environ:
            environ[name] = value
            loaded.append(name)
    return loaded


# Set for `make setup` in the environment, these are recorded in the file too, so the commands
# typed afterwards use the same database and cache as the set-up did.
RECORDED = ("DATABASE_URL", "REDIS_URL")


def development_env() -> str:
    """The contents `make setup` writes: DEBUG on and a key generated for this checkout."""
    return (
        "# Local development settings, written by `make setup`; git-ignored, never deployed.\n"
        "# Every command run from this checkout reads it (kb/envfile.py); a variable set in the\n"
        "# environment wins over a line here. Delete the file to go back to production defaults.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    )


def create(path: Path) -> bool:
    """Write a development env file at `path` (mode 600) unless one exists; True if written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(development_env())
    return True


def record(path: Path, values: dict[str, str]) -> list[str]:
    """Set `NAME=value` lines in an existing file (replacing a line for the same name, keeping
    every other line as it is). Returns the names whose value changed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    current = parse("\n".join(lines), source=str(path))
    changed = [name for name, value in values.items() if current.get(name) != value]
    for name in changed:
        line = f"{name}={values[name]}"
        index = next(
            (i for i, raw in enumerate(lines) if (m := _LINE.match(raw.strip())) and m[1] == name),
            None,
        )
        if index is None:
            lines.append(line)
        else:
            lines[index] = line
    if changed:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def update(path: Path, environ: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """The `make setup` step: create the file if missing, then record the RECORDED variables
    set in `environ`. Returns what it did, one line each."""
    done = []
    if create(path):
        done.append(f"wrote {path} (DEBUG on, a generated SECRET_KEY) for local development")
    changed = record(path, {name: environ[name] for name in RECORDED if environ.get(name)})
    if changed:
        done.append(f"recorded {', '.join(changed)} in {path}: later commands use it too")
    return done


def main(argv: list[str] | None = None) -> int:
    """`python -m kb.envfile update PATH`, run by `make setup`."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "update":
        print("usage: python -m kb.envfile update PATH", file=sys.stderr)
        return 2
    try:
        for line in update(Path(args[1])):
            print(f"setup: {line}")
    except (EnvFileError, OSError) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
