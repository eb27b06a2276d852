"""Packaging: what a wheel and an sdist carry, and an installed server."""
