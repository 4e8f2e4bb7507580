"""Persisted operations: the GraphQL documents the clients register when they are built, known
by the SHA-256 of their text, which is all the mini-program sends."""
