"""Business rules and use cases, in plain Python: no web framework, no ORM."""
