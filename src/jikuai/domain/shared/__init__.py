"""What every bounded context shares: identifiers, error codes and the unit-of-work port."""
