"""The convoy lab's pinger: it runs under bare interpreters, so it loads only the standard library."""

from __future__ import annotations

from convoy.convoy_factories import loaded_beyond_the_standard_library


def test_the_client_loads_only_the_standard_library() -> None:
    """The import-linter contract checks the code; this, what really loads."""
    assert loaded_beyond_the_standard_library("lab.convoy.client") == []
