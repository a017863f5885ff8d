"""API tokens: stored hashed, managed with a command and in the admin."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from incidents.api.auth import api_token_authenticate
from incidents.models import ApiToken
from incidents.services import api_token_create


def test_only_a_hash_of_the_token_is_stored(curator):
    token, plaintext = api_token_create(user=curator, name="ci")
    assert plaintext.startswith(f"kb_{token.prefix}_")
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    row = ApiToken.objects.values().get(pk=token.pk)
    assert plaintext not in str(row)
    assert api_token_authenticate(plaintext) == token
    assert api_token_authenticate(plaintext + "x") is None


def test_authentication_records_last_use(curator):
    token, plaintext = api_token_create(user=curator, name="ci")
    assert token.last_used_at is None
    api_token_authenticate(plaintext)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_command_creates_lists_and_revokes(curator):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "manage_api_tokens", "create", "--user", "curator", "--name", "CI", stdout=out, stderr=err
    )
    plaintext = out.getvalue().strip()
    assert api_token_authenticate(plaintext) is not None
    assert "not shown again" in err.getvalue()
    prefix = plaintext.split("_")[1]

    out = io.StringIO()
    call_command("manage_api_tokens", "list", stdout=out)
    assert prefix in out.getvalue() and "CI" in out.getvalue()
    assert plaintext not in out.getvalue()

    call_command("manage_api_tokens", "revoke", prefix, stdout=io.StringIO())
    assert api_token_authenticate(plaintext) is None
    out = io.StringIO()
    call_command("manage_api_tokens", "list", stdout=out)
    assert prefix not in out.getvalue()
    out = io.StringIO()
    call_command("manage_api_tokens", "list", "--all", stdout=out)
    assert "revoked" in out.getvalue()


def test_the_command_refuses_unknown_users_and_prefixes(db):
    with pytest.raises(CommandError):
        call_command("manage_api_tokens", "create", "--user", "nobody", "--name", "x")
    with pytest.raises(CommandError):
        call_command("manage_api_tokens", "revoke", "zzzzzzzz")


def test_staff_create_a_token_in_the_admin_and_see_it_once(client, curator):
    client.force_login(curator)
    response = client.post(
        reverse("admin:incidents_apitoken_add"),
        {"name": "chatops bot", "user": curator.pk},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="chatops bot")
    shown = [str(m) for m in response.context["messages"]]
    plaintext = next(w for m in shown for w in m.split() if w.startswith("kb_"))
    assert api_token_authenticate(plaintext) == token
    page = client.get(reverse("admin:incidents_apitoken_change", args=[token.pk]))
    assert plaintext not in page.content.decode()


def test_staff_revoke_tokens_with_the_admin_action(client, curator):
    token, plaintext = api_token_create(user=curator, name="x")
    client.force_login(curator)
    client.post(
        reverse("admin:incidents_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert api_token_authenticate(plaintext) is None


def test_staff_who_are_not_superusers_only_make_tokens_for_themselves(client, curator, outsider):
    client.force_login(curator)
    client.post(reverse("admin:incidents_apitoken_add"), {"name": "sneaky", "user": outsider.pk})
    assert not ApiToken.objects.filter(user=outsider).exists()
