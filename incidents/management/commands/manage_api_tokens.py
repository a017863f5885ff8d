"""Create, list and revoke API tokens. The plaintext is printed once, at creation.

manage.py manage_api_tokens create --user alice --name "CI pipeline"
manage.py manage_api_tokens list [--user alice] [--all]
manage.py manage_api_tokens revoke <prefix>
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from incidents import selectors
from incidents.api.auth import TOKEN_PREFIX
from incidents.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, list and revoke API tokens (stored hashed; shown once)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("--user", required=True, help="Username the token acts as.")
        create.add_argument("--name", required=True, help="What the token is for.")
        listing = sub.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("--user", help="Only this user's tokens.")
        listing.add_argument("--all", action="store_true", help="Include revoked tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix", help="The 8 characters after kb_ (or the whole token).")

    def handle(self, *args, **options):
        return getattr(self, f"_{options['action']}")(options)

    def _create(self, options) -> None:
        user = selectors.user_get(username=options["user"])
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        if not options["name"].strip():
            raise CommandError("--name must not be empty")
        token, plaintext = api_token_create(user=user, name=options["name"])
        self.stdout.write(plaintext)
        self.stderr.write(
            f"Created token {token.prefix} ({token.name}) for {user}. Store it now: "
            "it is not shown again."
        )

    def _list(self, options) -> None:
        tokens = selectors.api_token_list(username=options["user"], active_only=not options["all"])
        for t in tokens:
            last = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            self.stdout.write(
                f"{t.prefix}\t{t.user.get_username()}\t{t.name}\t"
                f"created {t.created_at:%Y-%m-%d}\tlast used {last}\t{state}"
            )

    def _revoke(self, options) -> None:
        prefix = options["prefix"].strip().removeprefix(TOKEN_PREFIX).split("_", 1)[0]
        token = selectors.api_token_by_prefix(prefix)
        if token is None:
            raise CommandError(f"no token with prefix {prefix!r}")
        api_token_revoke(token=token)
        self.stdout.write(f"Revoked {token.prefix} ({token.name}, {token.user}).")
