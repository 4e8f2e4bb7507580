"""Thin functions behind the schema's fields: who asks, load via DataLoaders, call the domain."""
