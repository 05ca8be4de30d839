"""Quarterdeck control panel (PySide6): adapters from core objects to Qt views."""
