"""``kontor users``: create (a generated password), token (alone on stdout), list, deactivate, reset."""
from core.auth import services
from core.auth.tokens import user_for_token
from core.testing import WebClient


def _password(output: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("Password: "))


def test_users_create_prints_a_generated_password(kontor, dispatcher):
    first = kontor("users", "create", "boss", "--admin", "--email", "boss@example.com", "--full-name", "The Boss")
    assert first.exit_code == 0, first.output
    second = kontor("users", "create", "clerk")
    assert _password(first.stdout) != _password(second.stdout)
    assert WebClient(dispatcher).login("boss", _password(first.stdout)).status_code == 302
    with dispatcher.app.app_context():
        from core.db import session

        boss = services.find_user(session, "boss")
        assert (boss.role_names, boss.email, boss.full_name) == (["admin"], "boss@example.com", "The Boss")


def test_users_create_refusals_go_to_stderr(kontor):
    assert kontor("users", "create", "boss").exit_code == 0
    taken = kontor("users", "create", "boss")
    assert taken.exit_code != 0 and "taken" in taken.stderr and taken.stdout == ""
    unknown = kontor("users", "create", "carl", "--role", "ghost")
    assert unknown.exit_code != 0 and "ghost" in unknown.stderr


def test_users_token_prints_the_token_alone(kontor, dispatcher):
    kontor("users", "create", "boss", "--admin")
    result = kontor("users", "token", "boss", "--name", "backup script")
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.startswith("kt_")
    response = WebClient(dispatcher).get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    missing = kontor("users", "token", "nobody")
    assert missing.exit_code != 0 and missing.stdout == "" and "nobody" in missing.stderr


def test_users_list_deactivate_and_reset_password(kontor, dispatcher):
    kontor("users", "create", "boss", "--admin")
    clerk_password = _password(kontor("users", "create", "clerk").stdout)
    token = kontor("users", "token", "clerk").stdout.strip()
    listing = kontor("users", "list").stdout
    assert "boss" in listing and "clerk" in listing and "admin" in listing
    reset = kontor("users", "reset-password", "clerk")
    assert reset.exit_code == 0 and _password(reset.stdout) != clerk_password
    assert WebClient(dispatcher).login("clerk", clerk_password).status_code == 401
    assert kontor("users", "deactivate", "clerk").exit_code == 0
    with dispatcher.app.app_context():
        from core.db import session

        assert user_for_token(session, token) is None
    assert "deactivated" in kontor("users", "list").stdout
    assert kontor("users", "deactivate", "boss").exit_code != 0  # the last administrator stays
