"""Quarterdeck command line."""
