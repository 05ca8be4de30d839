"""The History panel: every delivery, searchable and filterable, with each message in detail."""
