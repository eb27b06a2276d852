"""Shared test support: a real server in a subprocess (`tests.support.server`)."""

from .server import SMALL_OFFICE_TOML, ServerProcess, free_port, office_toml

__all__ = ["SMALL_OFFICE_TOML", "ServerProcess", "free_port", "office_toml"]
