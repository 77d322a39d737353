"""Errors that name a problem in what the user gave (shown as one line, exit status 2)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input: a missing file, malformed data, an incompatible architecture, a nonsense setting.

    The message is shown to the user as it is, on one line, so it must name the problem and the file.
    """
