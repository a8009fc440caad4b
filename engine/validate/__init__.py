"""Validation: module-level rules and function-body type checking (raises InvalidError)."""

from .body import validate_body
from .context import forget_context
from .module import validate_module

__all__ = ["forget_context", "validate_body", "validate_module"]
