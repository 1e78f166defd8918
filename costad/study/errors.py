"""The study's errors: each one a clear, one-line message the command line prints as is."""
from __future__ import annotations

__all__ = ["StudyError", "ResultsError", "BenchmarkFileError", "ReportError",
           "UnknownExperimentError", "ExperimentDefinitionError"]


class StudyError(Exception):
    """Base of the study's errors (the `costad` command reports them in one line)."""


class ResultsError(StudyError):
    """A results file that is missing, unreadable, of another schema, or does not match its
    hash; or results that cannot be written where asked."""


class BenchmarkFileError(StudyError):
    """A file that is not a well-formed pytest-benchmark JSON."""


class ReportError(StudyError):
    """A report that cannot be built or written (no results, an unwritable folder, ...)."""


class UnknownExperimentError(StudyError, KeyError):
    """A name that no registered experiment has."""

    def __str__(self) -> str:               # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ExperimentDefinitionError(StudyError):
    """An experiment module that lacks what the registry needs, or a duplicate name."""
