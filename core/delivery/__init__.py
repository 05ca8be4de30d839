"""Delivery transports: how a message reaches an agent (tmux pane, inbox folder, GUI, dry run)."""
from core.delivery.base import (
    Cancelled,
    DeliveryError,
    DeliveryRequest,
    PermanentError,
    Receipt,
    RetryableError,
    Transport,
    transport_for,
)

__all__ = [
    "Cancelled",
    "DeliveryError",
    "DeliveryRequest",
    "PermanentError",
    "Receipt",
    "RetryableError",
    "Transport",
    "transport_for",
]
