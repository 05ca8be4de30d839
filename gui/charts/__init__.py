"""Live charts of the delivery metrics, the breaker timeline, and the health tree."""
