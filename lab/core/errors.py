"""One exception hierarchy, so callers (CLI, page) catch a single class.

Every message is one line a person can act on: the CLI prints it as is and the
page shows it in an error box.
"""

from __future__ import annotations


class LabError(Exception):
    """Base class of every error GIL Lab raises on purpose."""


class InvalidSettings(LabError, ValueError):
    """A setting is out of range, unknown or malformed (CLI exit status 2)."""


class RefusedURL(InvalidSettings):
    """A URL the lab will not fetch (scheme, host or address refused)."""


class OverBudget(InvalidSettings):
    """A run that would cost more than the host allows in public mode."""


class RunFailed(LabError):
    """The experiment's child process failed or died before it finished."""


class ResultsFormatError(LabError, ValueError):
    """A results file (JSON or CSV) that is not one GIL Lab wrote."""


class StoreUnavailable(LabError):
    """The run store could not be reached or written (unreachable, gone, disk full): the run itself stands."""


class UnknownRun(InvalidSettings):
    """A run id that is malformed or that the store does not hold (or will not show this visitor)."""


class NotPermitted(InvalidSettings):
    """Something a visitor may not do in public mode (delete or pin a stored run)."""


class TaskFailure(Exception):
    """A task that failed in a way the lab itself describes: its message is the whole story."""


class WrongResult(TaskFailure):
    """A task finished but its result is not the one the work must give."""
