"""Sign-in when hosted, and the user's role.

- `[auth]` in secrets.toml: Streamlit's OIDC sign-in (st.login); roles by e-mail from `[roles]`; the
  identity provider must say the e-mail address is verified (`email_verified`), unless
  `[auth_policy] require_email_verified = false` (for providers that never send the claim).
- `[passwords]` instead: a password form; hashed passwords in secrets, constant-time comparison, the
  same hashing work for unknown user names, a delay after each failure, and at most
  MAX_ACCOUNT_FAILURES failures per user name and MAX_CLIENT_FAILURES per client address within
  FAILURE_WINDOW_S (then that name or address waits until the oldest failure is that old).
- neither (a local run): no sign-in, every user is `team`.

The role is looked up in the current secrets on every run (Streamlit reloads secrets.toml when it
changes), so removing or demoting a user takes effect on their next click.

Print a password hash for secrets.toml with: python -m ui.auth
"""

import base64
import getpass
import hashlib
import hmac
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from functools import cache

import streamlit as st

from ui.text import plain

ROLES = ("team", "viewer")
ITERATIONS = 200_000
FAILURE_DELAY_S = 1.5
MAX_ACCOUNT_FAILURES = 5
MAX_CLIENT_FAILURES = 20
FAILURE_WINDOW_S = 15 * 60
SIGNED_IN = ("signed_in_user", "signed_in_hash", "role")


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """A PBKDF2-SHA256 hash for secrets.toml: pbkdf2_sha256$iterations$salt$hash."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"pbkdf2_sha256${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash (constant-time comparison)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _iterations(stored: str) -> int | None:
    try:
        scheme, iterations, _, _ = stored.split("$")
        return int(iterations) if scheme == "pbkdf2_sha256" and 0 < int(iterations) <= 10**7 else None
    except (ValueError, AttributeError):
        return None


@cache
def _stand_in(iterations: int) -> str:
    """A hash no password matches, checked for unknown user names with the same iteration count as
    the configured hashes, so that the answer takes as long as for a real user."""
    return hash_password(os.urandom(16).hex(), os.urandom(16), iterations)


class Failures:
    """Failed sign-ins per key ('account:…', 'client:…') in the last FAILURE_WINDOW_S, shared by
    every session of this server process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._times.setdefault(key, deque())
        while times and now - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        return times

    def add(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def wait_s(self, key: str, limit: int) -> float:
        """Seconds until this key may try again (0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(key, now)
            return FAILURE_WINDOW_S - (now - times[-limit]) if len(times) >= limit else 0.0

    def forget(self, key: str) -> None:
        with self._lock:
            self._times.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._times.clear()


FAILURES = Failures()


def _section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name, {}) or {})
    except Exception:  # noqa: BLE001 -- no or malformed secrets.toml: a local run
        return {}


def mode() -> str:
    """'oidc', 'password' or 'none', from the secrets."""
    if _section("auth"):
        return "oidc"
    if _section("passwords"):
        return "password"
    return "none"


def role_for_email(email: str | None) -> str | None:
    """The role of an OIDC user from [roles]: team = [...], viewer = [...], default = 'viewer' or none."""
    roles = _section("roles")
    email = (email or "").strip().lower()
    if not email:
        return None
    for role in ROLES:
        if email in [str(e).lower() for e in roles.get(role, []) or []]:
            return role
    default = roles.get("default")
    return default if default in ROLES else None


def _require_email_verified() -> bool:
    value = _section("auth_policy").get("require_email_verified", True)
    return str(value).strip().lower() not in ("false", "0", "no")


def _email_verified() -> bool:
    return str(st.user.get("email_verified")).strip().lower() == "true"


def client() -> str:
    """Who is signing in, for the per-client limit: the header named by [auth_policy] client_header
    (set it behind a proxy that writes the real address, e.g. X-Real-IP), else the peer address."""
    header = _section("auth_policy").get("client_header")
    try:
        if header:
            value = st.context.headers.get(str(header))
            if value:
                return value.split(",")[0].strip()
        return st.context.ip_address or "unknown"
    except Exception:  # noqa: BLE001 -- no request context (tests, bare mode)
        return "unknown"


def _fingerprint(stored: str) -> str:
    return hashlib.sha256(stored.encode()).hexdigest()


def _entry(user: str | None) -> Mapping | None:
    entry = _section("passwords").get(user) if user else None
    return entry if isinstance(entry, Mapping) else None


def signed_in_state(user: str, stored_hash: str) -> dict:
    """The session state of a user signed in with the password whose hash is stored (for tests that
    open a page as a signed-in user without the form): the user name alone no longer signs anyone in."""
    return {"signed_in_user": user, "signed_in_hash": _fingerprint(stored_hash)}


def _sign_out() -> None:
    for key in SIGNED_IN:
        st.session_state.pop(key, None)


def _locked_out(user: str) -> float:
    return max(FAILURES.wait_s(f"account:{user.lower()}", MAX_ACCOUNT_FAILURES),
               FAILURES.wait_s(f"client:{client()}", MAX_CLIENT_FAILURES))


def _try_password(user: str, password: str) -> bool:
    """Check a sign-in, counting failures; True and the session signed in when it is right."""
    entry = _entry(user)
    stored = str(entry.get("hash", "")) if entry else ""
    configured = [_iterations(str(e.get("hash", ""))) for e in _section("passwords").values()
                  if isinstance(e, Mapping)]
    iterations = _iterations(stored) or next((i for i in configured if i), ITERATIONS)
    # an unknown user name costs the same hashing work as a known one: timing does not tell them apart
    ok = check_password(password, stored if _iterations(stored) else _stand_in(iterations))
    if ok:
        FAILURES.forget(f"account:{user.lower()}")
        st.session_state["signed_in_user"] = user
        st.session_state["signed_in_hash"] = _fingerprint(stored)
        return True
    FAILURES.add(f"account:{user.lower()}", f"client:{client()}")
    time.sleep(FAILURE_DELAY_S)
    return False


def _password_form(notice: str | None = None) -> None:
    st.title("Rituximab Cohort Explorer")
    st.caption("Sign in to see the cohort.")
    if notice:
        st.info(notice)
    with st.form("sign_in", border=True):
        user = st.text_input("User name", key="signin_user", max_chars=200)
        password = st.text_input("Password", type="password", key="signin_password", max_chars=1000)
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        user = (user or "").strip()
        wait = _locked_out(user)
        if wait > 0:
            st.error(f"Too many failed sign-ins for this user name or from this address. Try again in "
                     f"{max(1, round(wait / 60))} minute(s), or ask the study team to reset the password.")
        elif _try_password(user, password or ""):
            st.rerun()
        else:
            st.error("User name or password not recognised.")
    st.stop()


def _password_gate() -> str:
    user = st.session_state.get("signed_in_user")
    entry = _entry(user)
    stored = str(entry.get("hash", "")) if entry else ""
    # checked on every run against the current secrets: a removed user, or a changed password, ends
    # the session at the next click (session state is server-side: only the form, or a test, sets it;
    # a test may leave out the hash)
    signed_with = st.session_state.get("signed_in_hash")
    if not user or not entry or (
        signed_with is not None and not hmac.compare_digest(_fingerprint(stored), str(signed_with))
    ):
        was_signed_in = bool(user)
        _sign_out()
        _password_form("Your sign-in has ended: the account was changed or removed. Sign in again."
                       if was_signed_in else None)
    role = entry.get("role") if entry.get("role") in ROLES else "viewer"
    st.session_state["role"] = role
    with st.sidebar:
        st.caption(f"Signed in as {plain(user)} ({role})")
        if st.button("Sign out", key="sign_out"):
            _sign_out()
            st.rerun()
    return role


def _deny(message: str) -> None:
    st.session_state.pop("role", None)
    st.error(message)
    st.button("Sign out", key="sign_out_denied", on_click=st.logout)
    st.stop()


def gate() -> str:
    """Stop the run until the user is signed in (when sign-in is configured); returns the role,
    looked up in the current secrets on every run."""
    how = mode()
    if how == "none":
        st.session_state["role"] = "team"
        return "team"
    if how == "password":
        return _password_gate()
    if not st.user.is_logged_in:
        st.session_state.pop("role", None)
        st.title("Rituximab Cohort Explorer")
        st.caption("Sign in with your institution's account to see the cohort.")
        st.button("Sign in", key="sign_in_oidc", type="primary", on_click=st.login)
        st.stop()
    email = str(st.user.get("email") or "")
    if _require_email_verified() and not _email_verified():
        _deny(f"The identity provider has not confirmed that {plain(email)} belongs to you (its "
              "e-mail address is not verified). Verify the address with your provider, or ask the "
              "study team.")
    role = role_for_email(email)
    if role is None:
        _deny(f"{plain(email)} is not authorised for this study. Ask the study team for access.")
    st.session_state["role"] = role
    with st.sidebar:
        st.caption(f"Signed in as {plain(email)} ({role})")
        st.button("Sign out", key="sign_out", on_click=st.logout)
    return role


if __name__ == "__main__":
    print(hash_password(getpass.getpass("Password to hash: ")))
