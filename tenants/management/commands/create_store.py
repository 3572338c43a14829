from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.hosts import store_origin
from tenants.identity import IdentityError, store_register
from tenants.services import store_create


class Command(BaseCommand):
    help = "Create a store: its schema, domain, and its sign-in URLs and owner group in the identity provider."

    def add_arguments(self, parser):
        parser.add_argument("tenant_id", help="the custom:tenantId value, e.g. tenant4")
        parser.add_argument("--name", required=True, help="the store's display name")
        parser.add_argument("--domain", help="host name; default <tenant id>.<STORE_BASE_DOMAIN>")
        parser.add_argument("--schema", help="PostgreSQL schema; default the tenant id with - as _")
        parser.add_argument("--owner-group", default="", help="identity-provider group of owners")
        parser.add_argument("--no-idp", action="store_true", help="do not touch the identity provider")

    def handle(self, *args, tenant_id, name, domain, schema, owner_group, no_idp, **options):
        if not name.strip() or len(name) > 100:
            raise CommandError("--name must be 1-100 characters")
        try:
            store, created = store_create(
                tenant_id=tenant_id, name=name.strip(), domain=domain, schema_name=schema, owner_group=owner_group
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        origin = store_origin(store)
        if not no_idp:
            try:
                store_register(store=store, origin=origin)
            except (IdentityError, ClientError, BotoCoreError) as exc:
                raise CommandError(f"store saved, identity provider not updated: {exc}") from None
        self.stdout.write(f"{'created' if created else 'exists'}: {store.tenant_id} at {origin}")
