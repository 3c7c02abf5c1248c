"""The project's own error types: what the CLI and the app catch and show as one message, never a traceback.

Every error a user can cause with bad input (a file, a gene, a parameter, a checkpoint) is a
:class:`UGRNInputError`. Subclasses say which kind of input was wrong. Each subclasses ``ValueError`` (and
:class:`InputFileNotFound` also ``FileNotFoundError``), so callers that already catch those keep working.

Messages name the file, gene or parameter, what was found and what was expected.

Faults that are not the user's input are separate: :class:`Interrupted` (SIGINT/SIGTERM while a command runs,
exit code 128 + signal number).
"""

from __future__ import annotations

import signal


def first_items(items, n: int = 10) -> str:
    """Comma-join the first ``n`` items, with '…' when there are more (for messages naming what was found)."""
    items = list(items)
    return ", ".join(map(str, items[:n])) + (", …" if len(items) > n else "")


class UGRNInputError(ValueError):
    """Bad input to ugrn: the message names the file / gene / parameter, what was found and what was expected."""


class DataError(UGRNInputError):
    """A dataset, gene list, edge list or expression file cannot be used as given."""


class InputFileNotFound(DataError, FileNotFoundError):
    """An input file or folder does not exist (a data folder, a dataset file, a gene list)."""


class CheckpointError(UGRNInputError):
    """A foundation-model checkpoint or a translator is missing, unreadable, inconsistent or mismatched."""


class CheckpointNotFound(CheckpointError, FileNotFoundError):
    """A checkpoint or translator folder, or one of its files, does not exist."""


class ParameterError(UGRNInputError):
    """A parameter is out of range or unknown (virtual values, N/P ratio, top-k, method, device, path)."""


class Interrupted(BaseException):
    """The run was stopped by a signal (SIGINT / SIGTERM). ``exit_code`` = 128 + signal number (130 / 143).

    A ``BaseException`` (like ``KeyboardInterrupt``), so ``except Exception`` blocks do not swallow it and the
    atomic writers' ``except BaseException`` clean-up runs.
    """

    def __init__(self, signum: int):
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")
