"""Signing in: staff passwords, WeChat logins, access and refresh tokens."""
