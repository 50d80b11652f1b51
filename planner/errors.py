"""Exceptions and warnings raised by :mod:`planner`.

Every error the package raises on purpose derives from :class:`PlannerError`, and each also
derives from the standard exception a caller would expect (``ValueError`` for bad values,
``FileNotFoundError`` for missing files, ...), so ``except ValueError`` keeps working.
Messages name the file, row, column or argument at fault and say how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Self


class Term(NamedTuple):
    """A text of the catalogue given as an error's value (``Term("kind_station")``).

    Shown in the reader's language with the message; ``str(err)`` uses the English text.
    ``values`` fill the term's own placeholders, as ``(name, value)`` pairs.
    """

    key: str
    values: tuple[tuple[str, Any], ...] = ()
    #: Shown when the catalogue has no such key (a word from code the catalogue lacks).
    fallback: str = ""


class PlannerError(Exception):
    """Base class of every error raised on purpose by :mod:`planner`.

    An error may be raised with the key of its message in the text catalogue
    (``planner/texts.toml``) and the values that fill it in::

        raise InputDataError(key="err_file_empty", file=path)

    ``str(err)`` is then the English message, and an interface shows
    :func:`planner.texts.error_text` in its reader's language (the Chinese app does).
    Errors raised with a plain message are shown as they are.
    """

    key: str | None
    values: Mapping[str, Any]

    def __init__(self, message: str = "", *, key: str | None = None, **values: Any) -> None:
        if key is not None:
            from planner.texts import text_with_terms  # texts imports this module

            message = text_with_terms(key, "en", values)
        super().__init__(message)
        self.key = key
        self.values = dict(values)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the key and values (errors cross process boundaries under Dask)."""
        return (_rebuild, (type(self), str(self), self.key, dict(self.values)))

    def replaced(self, old: str, new: str) -> Self:
        """The same error with ``old`` replaced by ``new`` in its message and text values.

        Used to name an upload instead of the temporary file it was read from.
        """
        values = {
            k: v.replace(old, new) if isinstance(v, str) else v for k, v in self.values.items()
        }
        if self.key is not None:
            out = type(self)(key=self.key, **values)
        else:
            out = type(self)(str(self).replace(old, new))
            out.values = values
        return out


def _rebuild(
    cls: type[PlannerError], message: str, key: str | None, values: dict[str, Any]
) -> PlannerError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.key, err.values = key, values
    return err


class InputDataError(PlannerError, ValueError):
    """A user's file or table cannot be used as given (columns, values, geometry, CRS)."""


class UnsupportedFormatError(PlannerError, ValueError):
    """A file's type is not one that :mod:`planner` reads."""


class InputFileNotFoundError(PlannerError, FileNotFoundError):
    """A path given by the user does not exist."""


class NetworkBuildError(PlannerError, ValueError):
    """A walking network cannot be built from the given source (no walkable streets, ...)."""


class CRSError(InputDataError):
    """A coordinate reference system is unknown, missing or unsuitable (e.g. not metric)."""


class NetworkDownloadError(PlannerError, ConnectionError):
    """A street network could not be downloaded (no connection, server error, no result)."""


class OutputExistsError(PlannerError, FileExistsError):
    """Writing would overwrite a user's file and overwriting was not asked for."""


class IncompleteOutputError(PlannerError, FileNotFoundError):
    """An output folder lacks files (or GeoPackage layers) that a finished run writes."""


class StoreError(PlannerError, RuntimeError):
    """The project store cannot be opened or used (no server, no PostGIS, a broken file)."""


class ProjectNotFoundError(StoreError, LookupError):
    """No project with the given id is in the store (deleted, or another store)."""


class ProjectConflictError(StoreError):
    """A project was saved by another session since it was opened: nothing was overwritten.

    ``values["stored_version"]`` is the version now in the store; reload it (or keep the
    session's plan as a new project) and edit again.
    """


class PlannerWarning(UserWarning):
    """Base class of the warnings issued by :mod:`planner` for recoverable surprises."""


class OffNetworkWarning(PlannerWarning):
    """Some points lie farther from every street than the maximum snap distance."""


class InputWarning(PlannerWarning):
    """Input data was used, with a correction or a doubt the user should know about.

    E.g. longitude and latitude columns that look swapped, points far outside the street
    network, a population grid cell without any home to give its people to.
    """


class IslandWarning(PlannerWarning):
    """The street network has disconnected parts that were left out of the analysis."""


class PdfEngineError(PlannerError, RuntimeError):
    """No PDF engine (headless Chromium or Chrome) is installed, or it failed."""
