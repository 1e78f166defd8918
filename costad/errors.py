"""The errors costad raises; each message names the problem and what to do about it."""

__all__ = ["CostadError", "UnsupportedOperationError", "ShapeError", "InputTypeError",
           "NonScalarOutputError"]


class CostadError(Exception):
    """Base class of costad's errors."""


class UnsupportedOperationError(CostadError, TypeError):
    """A NumPy function or ufunc outside costad's primitive table was applied to a traced value."""


class ShapeError(CostadError, ValueError):
    """Operands whose shapes do not fit together (matmul inner dimensions, broadcasting, ...)."""


class InputTypeError(CostadError, TypeError):
    """An input that cannot be differentiated: integer, boolean, complex or non-numeric."""


class NonScalarOutputError(CostadError, ValueError):
    """`grad` was asked for the gradient of a function whose output is not a scalar."""
