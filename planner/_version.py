"""The package version (one place: pyproject reads it, the outputs record it)."""

__version__ = "0.1.0"
