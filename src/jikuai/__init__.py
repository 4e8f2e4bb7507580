"""Jikuai (吉快): the GraphQL backend of a rural bank's inclusive-finance platform."""
