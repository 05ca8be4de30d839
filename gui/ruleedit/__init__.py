"""The rule editor panel: edit the rule files with live checking and a test bench."""
