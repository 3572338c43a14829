import json
import secrets
import string
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from storefront.selectors import policy_get
from storefront.services import policy_set
from tenants.context import TenantContext
from tenants.hosts import store_origin
from tenants.identity import IdentityError, store_register, user_ensure
from tenants.oidc import owner_group_for
from tenants.services import store_create

# The number of days lives in its own field; the text does not repeat it, so an owner
# changing the days does not leave a contradicting sentence behind.
DEMO_POLICY_TEXT = (
    "Unused items in their original packaging can be returned for a refund to the original payment method. "
    "The return window starts on the day of delivery."
)
DEMO_STORES = [
    ("tenant1", "Tenant One Home Goods", 10),
    ("tenant2", "Tenant Two Kitchen", 20),
    ("tenant3", "Tenant Three Living", 30),
]


def generate_password() -> str:
    """Meets Cognito's default policy: upper, lower, digit and symbol, 16 characters."""
    alphabet = string.ascii_letters + string.digits
    body = [secrets.choice(alphabet) for _ in range(12)]
    body += [
        secrets.choice(string.ascii_uppercase),
        secrets.choice(string.ascii_lowercase),
        secrets.choice(string.digits),
        secrets.choice("!#%+-=?_"),
    ]
    secrets.SystemRandom().shuffle(body)
    return "".join(body)


class Command(BaseCommand):
    help = "Create the demo stores tenant1..tenant3, their policies and their users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--credentials-file", default=str(settings.VAR_DIR / "demo-credentials.json"))
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, credentials_file, quiet, **options):
        path = Path(credentials_file)
        try:
            known = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            known = {}
        credentials = {}
        try:
            for tenant_id, name, days in DEMO_STORES:
                store, _ = store_create(tenant_id=tenant_id, name=name)
                origin = store_origin(store)
                store_register(store=store, origin=origin)
                ctx = TenantContext.for_store(store)
                if policy_get(ctx=ctx) is None:
                    policy_set(ctx=ctx, days=days, updated_by="seed_demo", text=DEMO_POLICY_TEXT)
                for role, groups in (("user", []), ("owner", [owner_group_for(store)])):
                    username = f"{tenant_id}-{role}"
                    password = (known.get(username) or {}).get("password") or generate_password()
                    user_ensure(
                        username=username,
                        tenant_id=tenant_id,
                        password=password,
                        email=f"{username}@example.test",
                        groups=groups,
                    )
                    credentials[username] = {"password": password, "store": tenant_id, "url": origin}
        except (IdentityError, ValidationError, ClientError, BotoCoreError) as exc:
            raise CommandError(str(exc)) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(credentials, indent=2) + "\n")
        path.chmod(0o600)
        if not quiet:
            self.stdout.write(f"Demo stores and sign-ins (also in {path}):")
            for username, entry in credentials.items():
                self.stdout.write(f"  {entry['url']:<32} {username:<16} {entry['password']}")
