"""Retail customers: registration, identity checks, protected personal data and lookups."""
