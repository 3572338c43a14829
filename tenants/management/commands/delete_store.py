from django.core.management.base import BaseCommand, CommandError

from tenants.services import store_delete


class Command(BaseCommand):
    help = "Delete a store with ALL its data: its schema and its database role."

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")
        parser.add_argument("--yes", action="store_true", help="confirm that all the store's data goes")

    def handle(self, *args, tenant_id, yes, **options):
        if not yes:
            raise CommandError("this drops every order, user and answer of the store; add --yes to confirm")
        try:
            store_delete(tenant_id=tenant_id)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"deleted: {tenant_id}")
