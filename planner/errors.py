"""Exceptions and warnings raised by :mod:`planner`.

Every error the package raises on purpose derives from :class:`PlannerError`, and each also
derives from the standard exception a caller would expect (``ValueError`` for bad values,
``FileNotFoundError`` for missing files, ...), so ``except ValueError`` keeps working.
Messages name the file, row, column or argument at fault and say how to fix it.
"""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of every error raised on purpose by :mod:`planner`."""


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
