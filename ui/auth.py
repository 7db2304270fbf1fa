"""Sign-in when hosted, and the user's role.

- `[auth]` in secrets.toml: Streamlit's OIDC sign-in (st.login); roles by e-mail from `[roles]`.
- `[passwords]` instead: a password form; hashed passwords in secrets, constant-time comparison, a delay
  after each failure.
- neither (a local run): no sign-in, every user is `team`.

Print a password hash for secrets.toml with: python -m ui.auth
"""

import base64
from collections.abc import Mapping
import getpass
import hashlib
import hmac
import os
import time

import streamlit as st

ROLES = ("team", "viewer")
ITERATIONS = 200_000
FAILURE_DELAY_S = 1.5


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


def _section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name, {}) or {})
    except Exception:  # no secrets.toml at all: a local run
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
    email = (email or "").lower()
    for role in ROLES:
        if email in [e.lower() for e in roles.get(role, [])]:
            return role
    default = roles.get("default")
    return default if default in ROLES else None


def _password_form() -> None:
    st.title("Rituximab Cohort Explorer")
    st.caption("Sign in to see the cohort.")
    with st.form("sign_in", border=True):
        user = st.text_input("User name", key="signin_user")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        entry = _section("passwords").get(user) if user else None
        stored = entry.get("hash", "") if isinstance(entry, Mapping) else ""
        # hash even for an unknown user, so timing does not reveal which user names exist
        ok = check_password(password or "", stored or hash_password("x", b"0" * 16, 1000))
        if ok and stored:
            st.session_state["signed_in_user"] = user
            st.session_state["role"] = entry.get("role", "viewer") if entry.get("role") in ROLES else "viewer"
            st.rerun()
        time.sleep(FAILURE_DELAY_S)
        st.error("User name or password not recognised.")
    st.stop()


def gate() -> str:
    """Stop the run until the user is signed in (when sign-in is configured); returns the role."""
    how = mode()
    if how == "none":
        st.session_state["role"] = "team"
        return "team"
    if how == "password":
        if not st.session_state.get("signed_in_user"):
            _password_form()
        with st.sidebar:
            st.caption(f"Signed in as {st.session_state['signed_in_user']} ({st.session_state['role']})")
            if st.button("Sign out", key="sign_out"):
                for key in ("signed_in_user", "role"):
                    st.session_state.pop(key, None)
                st.rerun()
        return st.session_state["role"]
    if not st.user.is_logged_in:
        st.title("Rituximab Cohort Explorer")
        st.caption("Sign in with your institution's account to see the cohort.")
        st.button("Sign in", key="sign_in_oidc", type="primary", on_click=st.login)
        st.stop()
    role = role_for_email(st.user.get("email"))
    if role is None:
        st.error(f"{st.user.get('email')} is not authorised for this study. Ask the study team for access.")
        st.button("Sign out", key="sign_out_denied", on_click=st.logout)
        st.stop()
    st.session_state["role"] = role
    with st.sidebar:
        st.caption(f"Signed in as {st.user.get('email')} ({role})")
        st.button("Sign out", key="sign_out", on_click=st.logout)
    return role


if __name__ == "__main__":
    print(hash_password(getpass.getpass("Password to hash: ")))
