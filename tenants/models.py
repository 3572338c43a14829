import re

from django.core.exceptions import ValidationError
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

TENANT_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
PUBLIC_TENANT_ID = "_public"


def validate_tenant_id(value: str) -> None:
    if value != PUBLIC_TENANT_ID and not TENANT_ID_RE.match(value or ""):
        raise ValidationError("A tenant id is 1-40 lower-case letters, digits and inner hyphens, e.g. 'tenant1'.")


class Store(TenantMixin):
    """A store (tenant). `tenant_id` is the value of the `custom:tenantId` claim."""

    tenant_id = models.CharField(max_length=40, unique=True, validators=[validate_tenant_id])
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    owner_group = models.CharField(
        max_length=128,
        blank=True,
        help_text="Identity-provider group whose members own this store; empty means '<tenant id>-owners'.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Operators' per-store overrides of the assistant's limits; empty = the settings' defaults.
    assistant_rate_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Questions per shopper per window (default: ASSISTANT_RATE_LIMIT)."
    )
    assistant_max_running = models.PositiveIntegerField(
        null=True, blank=True, help_text="Answers running at once in this store (default: ASSISTANT_MAX_RUNNING)."
    )

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["tenant_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant_id})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("tenant_id", "schema_name").first()
            if stored and stored != (self.tenant_id, self.schema_name):
                raise ValidationError("A store's tenant id and schema are immutable once created.")
        super().save(*args, **kwargs)


class Domain(DomainMixin):
    pass
