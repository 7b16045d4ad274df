"""The one exception type the CLI turns into a one-sentence error message."""


class GankitError(Exception):
    """A user-facing error: bad input, missing data, a broken checkpoint.

    The CLI prints ``str(error)`` on stderr and exits with status 2, so the
    message should be one complete sentence that says what to do.
    """


class DataNotFound(GankitError):
    """A dataset is not where the settings say; commands that re-read a run's data rephrase it."""
