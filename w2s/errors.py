"""The one exception type for problems a user can fix (bad config, bad data, missing files)."""


class W2SError(Exception):
    """A user-facing error: the message names the file, key, column or row and what was expected."""
