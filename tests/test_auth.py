"""Sign-in: required when configured (OIDC or passwords), absent on a local run; roles decide the pages;
roles follow the current secrets on every run; failures are limited and timing tells nothing."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import auth
from ui.auth import check_password, hash_password

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ALICE = hash_password("correct horse", iterations=1000)
BOB = hash_password("battery staple", iterations=1000)
PASSWORDS = {"alice": {"hash": ALICE, "role": "team"}, "bob": {"hash": BOB, "role": "viewer"}}
OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s", "client_id": "c",
        "client_secret": "x", "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}


@pytest.fixture(autouse=True)
def no_failure_history(monkeypatch):
    """Each test starts with no failed sign-ins on record and no 1.5 s wait after a failure."""
    auth.FAILURES.clear()
    monkeypatch.setattr(auth, "FAILURE_DELAY_S", 0)
    yield
    auth.FAILURES.clear()


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
    at.user = {"is_logged_in": True, "email": email, "email_verified": True}
    at.run()

    assert shows_cohort(at)
    assert at.session_state["role"] == role


def test_an_oidc_user_not_on_any_list_is_refused():
    at = app(auth=OIDC, roles={"team": ["lead@clinic.org"]})
    at.user = {"is_logged_in": True, "email": "stranger@example.com", "email_verified": True}
    at.run()

    assert not shows_cohort(at)
    assert "not authorised" in at.error[0].value


def sign_in(at: AppTest, user: str, password: str) -> AppTest:
    at.text_input(key="signin_user").input(user)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    return at


def test_a_password_user_removed_from_the_secrets_is_signed_out_on_the_next_click():
    at = sign_in(app(passwords=PASSWORDS).run(), "alice", "correct horse")
    assert shows_cohort(at)

    at.secrets["passwords"] = {"bob": PASSWORDS["bob"]}
    at.run()

    assert not shows_cohort(at)
    assert "signed_in_user" not in at.session_state
    assert "sign-in has ended" in at.info[0].value
    assert [t.key for t in at.text_input] == ["signin_user", "signin_password"]


def test_a_password_user_demoted_to_viewer_gets_the_viewer_role_on_the_next_click():
    at = sign_in(app(passwords=PASSWORDS).run(), "alice", "correct horse")
    assert at.session_state["role"] == "team"

    at.secrets["passwords"] = PASSWORDS | {"alice": {"hash": ALICE, "role": "viewer"}}
    at.run()

    assert shows_cohort(at)
    assert at.session_state["role"] == "viewer"


def test_a_changed_password_ends_the_sessions_signed_in_with_the_old_one():
    at = sign_in(app(passwords=PASSWORDS).run(), "alice", "correct horse")

    at.secrets["passwords"] = PASSWORDS | {"alice": {"hash": hash_password("new", iterations=1000),
                                                     "role": "team"}}
    at.run()

    assert not shows_cohort(at)


def test_a_session_opened_by_a_test_follows_the_current_secrets_too():
    at = app(passwords=PASSWORDS)
    for key, value in auth.signed_in_state("alice", ALICE).items():
        at.session_state[key] = value
    at.session_state["role"] = "team"
    at.run()
    assert shows_cohort(at) and at.session_state["role"] == "team"

    at.secrets["passwords"] = {"bob": PASSWORDS["bob"]}
    at.run()

    assert not shows_cohort(at)


@pytest.mark.parametrize("claim", [False, None, "false"])
def test_an_oidc_account_whose_email_is_not_verified_is_refused(claim):
    at = app(auth=OIDC, roles={"team": ["lead@clinic.org"]})
    at.user = {"is_logged_in": True, "email": "lead@clinic.org"} | (
        {} if claim is None else {"email_verified": claim})

    at.run()

    assert not shows_cohort(at)
    assert "not verified" in at.error[0].value
    assert "role" not in at.session_state


def test_the_email_verified_requirement_can_be_switched_off_for_providers_without_the_claim():
    at = app(auth=OIDC, roles={"team": ["lead@clinic.org"]},
             auth_policy={"require_email_verified": False})
    at.user = {"is_logged_in": True, "email": "lead@clinic.org"}

    at.run()

    assert shows_cohort(at)
    assert at.session_state["role"] == "team"


def test_an_oidc_user_removed_from_the_roles_loses_access_on_the_next_click():
    at = app(auth=OIDC, roles={"team": ["lead@clinic.org"]})
    at.user = {"is_logged_in": True, "email": "lead@clinic.org", "email_verified": True}
    at.run()
    assert at.session_state["role"] == "team"

    at.secrets["roles"] = {"viewer": ["lead@clinic.org"]}
    at.run()
    assert at.session_state["role"] == "viewer"

    at.secrets["roles"] = {"team": ["other@clinic.org"]}
    at.run()
    assert not shows_cohort(at)
    assert "not authorised" in at.error[0].value


def test_an_oidc_email_with_markdown_is_shown_as_text():
    at = app(auth=OIDC, roles={"team": ["lead@clinic.org"]})
    at.user = {"is_logged_in": True, "email": "[x](https://evil.example)", "email_verified": True}

    at.run()

    assert "[x](https" not in at.error[0].value
    assert "\\[x\\]" in at.error[0].value


def test_after_five_failures_an_account_is_locked_even_with_the_right_password():
    at = app(passwords=PASSWORDS).run()
    for _ in range(auth.MAX_ACCOUNT_FAILURES):
        sign_in(at, "alice", "wrong")
        assert "not recognised" in at.error[0].value

    sign_in(at, "alice", "correct horse")

    assert not shows_cohort(at)
    assert "Too many failed sign-ins" in at.error[0].value
    assert "15 minute(s)" in at.error[0].value  # the window starts at the oldest failure: 15 min


def test_failures_from_one_client_across_many_names_lock_that_client(monkeypatch):
    monkeypatch.setattr(auth, "client", lambda: "203.0.113.9")
    at = app(passwords=PASSWORDS).run()
    for i in range(auth.MAX_CLIENT_FAILURES):
        sign_in(at, f"guess{i}", "x")

    sign_in(at, "alice", "correct horse")
    assert "Too many failed sign-ins" in at.error[0].value

    monkeypatch.setattr(auth, "client", lambda: "198.51.100.7")  # another address is not locked
    sign_in(at, "alice", "correct horse")
    assert shows_cohort(at)


def test_failures_older_than_the_window_are_forgotten(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    auth.FAILURES.add(*["account:alice"] * auth.MAX_ACCOUNT_FAILURES)
    assert auth.FAILURES.wait_s("account:alice", auth.MAX_ACCOUNT_FAILURES) == auth.FAILURE_WINDOW_S

    now[0] += auth.FAILURE_WINDOW_S + 1

    assert auth.FAILURES.wait_s("account:alice", auth.MAX_ACCOUNT_FAILURES) == 0


def test_an_unknown_user_name_costs_the_same_hashing_work_as_a_known_one(monkeypatch):
    # count PBKDF2 iterations instead of timing wall clock, which is noisy on a shared machine
    calls = []
    real = auth.hashlib.pbkdf2_hmac
    monkeypatch.setattr(auth.hashlib, "pbkdf2_hmac",
                        lambda name, pw, salt, n: calls.append(n) or real(name, pw, salt, n))
    strong = {"carol": {"hash": hash_password("pw", iterations=50_000), "role": "team"}}
    at = app(passwords=strong).run()
    auth._stand_in(50_000)  # built once per server, not per attempt
    calls.clear()

    sign_in(at, "carol", "wrong")
    known = list(calls)
    calls.clear()
    sign_in(at, "nobody", "wrong")
    unknown = list(calls)

    assert known == unknown == [50_000]


def test_an_unknown_user_name_takes_as_long_as_a_known_one():
    # before: unknown names were checked against a 1,000-iteration hash, 200 times faster than a
    # real user's 200,000; now both cost the same (the shortest of five runs, to damp a busy machine)
    stored = hash_password("pw", iterations=200_000)
    stand_in = auth._stand_in(200_000)

    def duration(hashed: str) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            check_password("wrong", hashed)
            runs.append(time.perf_counter() - start)
        return min(runs)

    known, unknown = duration(stored), duration(stand_in)

    assert 0.5 < unknown / known < 2
