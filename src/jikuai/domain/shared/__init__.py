"""What every bounded context shares: identifiers, error codes, batch rewriting."""
