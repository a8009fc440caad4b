"""Validation: module-level rules and function-body type checking (raises InvalidError)."""

from .body import validate_body
from .module import validate_module

__all__ = ["validate_body", "validate_module"]
