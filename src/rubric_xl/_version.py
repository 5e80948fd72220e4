"""The package version, in a module of its own so any layer may name it without
importing the public API (``rubric_xl/__init__.py``, the top of the layers)."""

__version__ = "0.1.0"
