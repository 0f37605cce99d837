"""Exception hierarchy. Each error carries the CLI exit code it maps to.

Exit codes (documented in the README):

====  ===========================================================
0     success
2     usage or configuration error
3     API key rejected (401)
4     the rate budget leaves no slot within ``--max-wait``
5     server or data error (5xx after retries, 400, 413 on one day,
      a bad archive or file that failed to load)
6     the warehouse is busy (another writer holds it)
7     no space left on a device the run writes to
====  ===========================================================
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_RATE_BUDGET = 4
EXIT_SERVER_OR_DATA = 5
EXIT_WAREHOUSE_BUSY = 6
EXIT_DISK_FULL = 7

# how the OS (errno ENOSPC, EDQUOT) and DuckDB's IO errors word a full device
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_TEXTS = ("No space left on device", "Disk quota exceeded", "database or disk is full")


class LoaderError(Exception):
    """Base class: a failure the CLI reports as one readable line."""

    exit_code = EXIT_SERVER_OR_DATA


class ConfigError(LoaderError):
    """Missing or invalid configuration or command-line arguments."""

    exit_code = EXIT_USAGE


class AuthError(LoaderError):
    """The API rejected the key (HTTP 401). The key itself is never included."""

    exit_code = EXIT_AUTH


class BadRequestError(LoaderError):
    """The API rejected the request parameters (HTTP 400)."""


class RateBudgetError(LoaderError):
    """No request slot is free within the allowed wait; ``retry_at`` says when one is."""

    exit_code = EXIT_RATE_BUDGET

    def __init__(self, message: str, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ServerError(LoaderError):
    """The API kept failing (5xx or connection errors) after bounded retries."""


class PayloadTooLargeError(LoaderError):
    """A single-day window still exceeds the API's size limit (HTTP 413)."""


class DataError(LoaderError):
    """An input file is malformed; the message names the file and, where known, the line."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        where = file or ""
        if file and line is not None:
            where = f"{file}, line {line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.line = line
        self.reason = message


class LoadFailedError(LoaderError):
    """One or more files failed to load (each already recorded in the load log)."""


class WarehouseBusyError(LoaderError):
    """Another process is writing the warehouse."""

    exit_code = EXIT_WAREHOUSE_BUSY


class DiskFullError(LoaderError):
    """A device the run writes to is full; nothing was published half-done."""

    exit_code = EXIT_DISK_FULL


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError or a DuckDB error) says a device is full: never a bad file."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    return any(text in str(exc) for text in _DISK_FULL_TEXTS)
