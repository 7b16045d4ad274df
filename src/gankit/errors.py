"""The one exception type the CLI turns into a one-sentence error message."""


class GankitError(Exception):
    """A user-facing error: bad input, missing data, a broken checkpoint.

    The CLI prints ``str(error)`` on stderr and exits with status 2, so the
    message should be one complete sentence that says what to do.
    """
