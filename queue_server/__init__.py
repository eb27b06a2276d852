"""Antre: a service queue and crowd-capacity manager for public-service offices."""

__version__ = "0.1.0"
