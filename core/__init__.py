"""Quarterdeck's Qt-free core: rules, validation, delivery, monitoring."""

__version__ = "0.1.0"
