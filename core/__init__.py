"""Quarterdeck's Qt-free core: rules, validation, the outbox, delivery, monitoring, the integration API."""
