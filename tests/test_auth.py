"""Sign-in: required when configured (OIDC or passwords), absent on a local run; roles decide the pages."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.auth import check_password, hash_password

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ALICE = hash_password("correct horse", iterations=1000)
BOB = hash_password("battery staple", iterations=1000)
PASSWORDS = {"alice": {"hash": ALICE, "role": "team"}, "bob": {"hash": BOB, "role": "viewer"}}
OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s", "client_id": "c",
        "client_secret": "x", "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}


def app(**secrets) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in secrets.items():
        at.secrets[key] = value
    return at


def shows_cohort(at: AppTest) -> bool:
    return any("patients selected" in m.value for m in at.markdown)


def page_titles(at: AppTest) -> list[str]:
    return [p.page_name if hasattr(p, "page_name") else str(p) for p in at.get("navigation")] or []


def test_password_hashes_verify_and_reject():
    assert check_password("correct horse", ALICE)
    assert not check_password("correct hors", ALICE)
    assert not check_password("correct horse", "not-a-hash")
    assert ALICE != hash_password("correct horse", iterations=1000)  # salted


def test_a_local_run_without_secrets_needs_no_sign_in_and_is_team():
    at = app().run()

    assert not at.exception
    assert shows_cohort(at)
    assert at.session_state["role"] == "team"


def test_with_passwords_configured_nothing_shows_before_sign_in():
    at = app(passwords=PASSWORDS).run()

    assert not shows_cohort(at)
    assert [t.key for t in at.text_input] == ["signin_user", "signin_password"]


def test_a_wrong_password_is_refused_and_a_right_one_signs_in_with_its_role():
    at = app(passwords=PASSWORDS).run()

    at.text_input(key="signin_user").input("alice")
    at.text_input(key="signin_password").input("wrong")
    at.button[0].click().run()
    assert "not recognised" in at.error[0].value and not shows_cohort(at)

    at.text_input(key="signin_password").input("correct horse")
    at.button[0].click().run()
    assert shows_cohort(at)
    assert at.session_state["role"] == "team"


def test_a_viewer_password_user_gets_viewer_mode():
    at = app(passwords=PASSWORDS).run()

    at.text_input(key="signin_user").input("bob")
    at.text_input(key="signin_password").input("battery staple")
    at.button[0].click().run()

    assert at.session_state["role"] == "viewer"
    assert not any("RTX-" in m.value for m in at.markdown)


def test_with_oidc_configured_a_signed_out_user_sees_only_the_sign_in_button():
    at = app(auth=OIDC, roles={"team": ["lead@clinic.org"]})
    at.user = {"is_logged_in": False}
    at.run()

    assert not shows_cohort(at)
    assert at.button(key="sign_in_oidc").label == "Sign in"


@pytest.mark.parametrize(("email", "role"), [("lead@clinic.org", "team"), ("guest@uni.edu", "viewer")])
def test_oidc_users_get_the_role_of_their_email(email, role):
    at = app(auth=OIDC, roles={"team": ["Lead@clinic.org"], "viewer": ["guest@uni.edu"]})
    at.user = {"is_logged_in": True, "email": email}
    at.run()

    assert shows_cohort(at)
    assert at.session_state["role"] == role


def test_an_oidc_user_not_on_any_list_is_refused():
    at = app(auth=OIDC, roles={"team": ["lead@clinic.org"]})
    at.user = {"is_logged_in": True, "email": "stranger@example.com"}
    at.run()

    assert not shows_cohort(at)
    assert "not authorised" in at.error[0].value
