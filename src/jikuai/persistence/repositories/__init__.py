"""Every query lives here; repositories take a connection and return domain objects."""
