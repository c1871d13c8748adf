"""The one exception type for bad input that the user can fix (the CLI prints it and exits 2)."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: a malformed file, an unknown name, an invalid option.

    The message is one line that names what is wrong and where (file and line, option or
    name). The command-line front end prints it without a traceback and exits with code 2.
    """
