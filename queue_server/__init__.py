"""Antre: a service queue and crowd-capacity manager for public-service offices."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The installed distribution's version, so the wheel, `--version`, /healthz and
    # the index page never disagree with pyproject.toml.
    __version__: str = version("antre")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
