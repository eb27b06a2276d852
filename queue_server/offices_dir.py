"""A folder of office files: every `<id>.toml` is one office of a regency deployment (api-scale.md)."""

from __future__ import annotations

import re
from pathlib import Path

from queue_server.config import ConfigError, load_config
from queue_server.domain.settings import OfficeConfig

OFFICE_ID = re.compile(r"[a-z0-9_-]+")


class OfficesError(ValueError):
    """The folder cannot be served; the message names the file (and the key)."""


def load_offices(folder: Path) -> dict[str, OfficeConfig]:
    """id -> config for every `*.toml` in `folder`, in id order; refuses a bad file with one line."""
    if not folder.is_dir():
        raise OfficesError(f"{folder}: no such folder of office files")
    offices: dict[str, OfficeConfig] = {}
    for path in sorted(folder.glob("*.toml")):
        office_id = path.stem
        if not OFFICE_ID.fullmatch(office_id):
            raise OfficesError(f"{path}: the file name must be the office id, [a-z0-9_-]+ then .toml")
        try:
            offices[office_id] = load_config(path)
        except ConfigError as error:
            raise OfficesError(f"{path}: {error}") from error
        except Exception as error:  # a case the checks missed still gets one line, not a traceback
            raise OfficesError(f"{path}: {type(error).__name__}: {error}") from error
    if not offices:
        raise OfficesError(f"{folder}: no office files (*.toml) in it")
    return offices


def office_db(data_dir: Path, office_id: str) -> Path:
    if not OFFICE_ID.fullmatch(office_id):
        raise OfficesError(f"--office: {office_id!r} is not an office id ([a-z0-9_-]+)")
    return data_dir / f"{office_id}.db"
