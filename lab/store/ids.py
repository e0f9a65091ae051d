"""Stored runs' ids: unguessable, URL-safe, and checked before any query is built.

A permalink is the only key to a visitor's run in public mode, so the id is
128 random bits (`secrets.token_urlsafe(16)`, 22 characters), never a row
number or the record's own short run id. Whatever arrives as an id (a
`?run=` parameter, a CLI argument) is checked here first: anything that is
not 22 URL-safe characters is refused with one line, however long or
SQL-looking it is, and never reaches the database.
"""

from __future__ import annotations

import re
import secrets

from lab.core.errors import UnknownRun
from lab.store.schema import ID_LENGTH

ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{ID_LENGTH}}}")
SHOWN = 40  # characters of a refused id repeated in the message


def new_id() -> str:
    """128 random bits; never starting with '-', which a command line would read as an option
    (`python -m lab runs show -x…` failed one time in 64 before)."""
    while True:
        candidate = secrets.token_urlsafe(16)
        if not candidate.startswith("-"):
            return candidate


def check_id(value: object) -> str:
    """The id itself when it is well formed; UnknownRun with one line otherwise."""
    if not isinstance(value, str):
        raise UnknownRun("not a run id: a run id is text")
    if len(value) > 4 * ID_LENGTH:
        raise UnknownRun(f"not a run id: {len(value):,} characters long (a run id has {ID_LENGTH})")
    if not ID_PATTERN.fullmatch(value):
        shown = ascii(value[:SHOWN])
        raise UnknownRun(f"not a run id: {shown} (a run id is {ID_LENGTH} letters, digits, '-' or '_')")
    return value
