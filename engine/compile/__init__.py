"""Translation of validated function bodies into Python functions (see translate.py)."""

from .translate import Factory, translate, translate_source

__all__ = ["Factory", "translate", "translate_source"]
