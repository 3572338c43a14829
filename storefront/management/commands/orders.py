from django.core.management.base import BaseCommand, CommandError

from storefront.selectors import orders_for_shopper
from storefront.services import order_add, orders_clear
from tenants.identity import IdentityError, user_lookup
from tenants.services import context_for_tenant_id


class Command(BaseCommand):
    help = "Add or clear orders of a shopper, in the shopper's own store (from the identity provider)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="the shopper's username in the identity provider")
        parser.add_argument("action", choices=["add", "clear", "list"])
        parser.add_argument("--count", type=int, default=1, help="how many orders to add (1-50)")

    def handle(self, *args, username, action, count, **options):
        if not 1 <= count <= 50:
            raise CommandError("--count must be between 1 and 50")
        try:
            user = user_lookup(username)
        except IdentityError as exc:
            raise CommandError(str(exc)) from None
        if not user.tenant_id:
            raise CommandError(f"{username} has no custom:tenantId, so belongs to no store")
        try:
            ctx = context_for_tenant_id(user.tenant_id, shopper_sub=user.sub)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if action == "add":
            for _ in range(count):
                order = order_add(ctx=ctx, shopper_sub=user.sub)
                self.stdout.write(
                    f"added order {order.number} ({order.total} {order.currency}) for {username} in {ctx.tenant_id}"
                )
        elif action == "clear":
            removed = orders_clear(ctx=ctx, shopper_sub=user.sub)
            self.stdout.write(f"removed {removed} order{'s' if removed != 1 else ''} of {username} in {ctx.tenant_id}")
        else:
            orders = orders_for_shopper(ctx=ctx)
            if not orders:
                self.stdout.write(f"{username} has no orders in {ctx.tenant_id}")
            for o in orders:
                self.stdout.write(f"{o.number}  {o.placed_at:%Y-%m-%d}  {o.status:<10} {o.total} {o.currency}")
