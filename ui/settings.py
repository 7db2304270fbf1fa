"""Where the dataset lives and the privacy settings: environment variables, then secrets, then defaults."""

import math
import os
from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA = APP_DIR / "data" / "demo"
APP_VERSION = "0.1.0"


def _secret(section: str, key: str) -> object | None:
    try:
        return st.secrets.get(section, {}).get(key)
    except (FileNotFoundError, AttributeError, KeyError):
        return None
    except Exception:  # noqa: BLE001 — a malformed secrets.toml must not take the app down
        return None


def setting(env: str, section: str, key: str, default: object) -> object:
    """A setting from the environment variable, else secrets.toml [section] key, else the default."""
    if os.environ.get(env):
        return os.environ[env]
    value = _secret(section, key)
    return default if value is None else value


def _resolve(location: str) -> str:
    if "://" in location or location.startswith("md:"):
        return location
    path = Path(location)
    return str(path if path.is_absolute() else APP_DIR / path)


def datasets_root() -> Path:
    """Where imported dataset versions live (RCE_DATASETS or [data] datasets), datasets/ by default."""
    return Path(_resolve(str(setting("RCE_DATASETS", "data", "datasets", "datasets"))))


def data_location() -> str:
    """The dataset to show: RCE_DATA or [data] location when set, else the active imported version,
    else the demo dataset."""
    location = setting("RCE_DATA", "data", "location", None)
    if location:
        return _resolve(str(location))
    from queries.importer import active_location

    imported = active_location(datasets_root())
    return str(imported) if imported else str(DEFAULT_DATA)


def max_upload_mb() -> float:
    """The import size limit per file in MB (RCE_MAX_UPLOAD_MB or [data] max_upload_mb), 200 by default;
    a value that is not a positive finite number falls back to 200 (NaN would disable every check)."""
    try:
        value = float(setting("RCE_MAX_UPLOAD_MB", "data", "max_upload_mb", 200))
    except (TypeError, ValueError):
        return 200.0
    return value if math.isfinite(value) and value > 0 else 200.0


def min_count() -> int:
    """k: in viewer mode counts from 1 to k − 1 are hidden (RCE_MIN_COUNT or [privacy] min_count)."""
    try:
        return max(1, int(setting("RCE_MIN_COUNT", "privacy", "min_count", 5)))
    except (TypeError, ValueError):
        return 5


@st.cache_resource(show_spinner=False)
def clean_staging_at_start() -> list[str]:
    """Once per server process: remove staging folders (patient data) of imports that were killed
    or interrupted; a folder still held by a running import, of any user or process, is kept."""
    from queries.importer import clean_staging

    try:
        return [str(p) for p in clean_staging(datasets_root())]
    except OSError:  # a read-only or absent datasets folder has nothing to clean
        return []


def s3_credentials() -> dict | None:
    """[data.s3] key_id, secret, region, endpoint … for an s3:// dataset (DuckDB secret options)."""
    section = _secret("data", "s3")
    return dict(section) if section else None


def motherduck_token() -> None:
    """Export [data] motherduck_token for DuckDB's MotherDuck extension, which reads it from the environment."""
    token = _secret("data", "motherduck_token")
    if token and not os.environ.get("motherduck_token"):
        os.environ["motherduck_token"] = str(token)
