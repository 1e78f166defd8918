"""The errors costad raises; each message names the problem and what to do about it."""
import numpy as _np

__all__ = ["CostadError", "UnsupportedOperationError", "ShapeError", "InputTypeError",
           "OutputTypeError", "NonScalarOutputError", "EscapedTracerError",
           "AbstractValueError", "LinAlgError", "NonDifferentiableError",
           "FrozenConstantError"]


class CostadError(Exception):
    """Base class of costad's errors."""


class UnsupportedOperationError(CostadError, TypeError):
    """A NumPy function or ufunc outside costad's primitive table was applied to a traced value."""


class ShapeError(CostadError, ValueError):
    """Operands whose shapes do not fit together (matmul inner dimensions, broadcasting, ...)."""


class InputTypeError(CostadError, TypeError):
    """An input that cannot be differentiated: integer, boolean, complex or non-numeric."""


class OutputTypeError(CostadError, TypeError):
    """f returned something that has no derivative: a boolean, a complex number, a string."""


class NonScalarOutputError(CostadError, ValueError):
    """`grad` was asked for the gradient of a function whose output is not a scalar."""


class EscapedTracerError(CostadError, TypeError):
    """A traced value was used after the transformation that traced it had returned, or in
    a thread that is not tracing it."""

    def __init__(self, message: str | None = None):
        super().__init__(message or (
            "costad: a traced value was used after the grad, jvp, trace or count call that "
            "traced it had returned (it escaped, e.g. into a global, a list or a closure); "
            "outside that call it has no value. Return what you need from the function "
            "instead."))


class AbstractValueError(CostadError, TypeError):
    """Python control flow or a conversion needed the value of an abstract (ShapeDtype) array."""


class LinAlgError(CostadError, _np.linalg.LinAlgError):
    """A linear-algebra routine failed on the data (a singular matrix, a matrix that is not
    positive definite, no convergence); a numpy.linalg.LinAlgError, as NumPy raises."""


class NonDifferentiableError(CostadError, ValueError):
    """A derivative asked for where it does not exist (eigenvectors at repeated
    eigenvalues, singular vectors at repeated or zero singular values)."""


class FrozenConstantError(CostadError, ValueError):
    """f wrote into a constant (untraced) array after passing it to an operation that
    reverse mode recorded: the backward sweep reads that array at the end, so reverse mode
    keeps it read-only while its tape may still be swept (a ValueError, as NumPy's own
    refusal to write into a read-only array is)."""
