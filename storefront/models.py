"""The shop's own data. These tables exist in every store schema, never in public."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class ReturnPolicy(models.Model):
    """The store's return policy: one row per store."""

    days = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(3650)])
    text = models.TextField(max_length=4000, help_text="Shown to shoppers and used by the assistant.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "return policy"

    def __str__(self) -> str:
        return f"Returns within {self.days} days"


class ReturnPolicyVersion(models.Model):
    """Every saved state of the return policy: who changed what, when."""

    days = models.PositiveSmallIntegerField()
    text = models.TextField()
    changed_by = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.days} days, {self.changed_at:%Y-%m-%d %H:%M} by {self.changed_by or 'unknown'}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        RETURNED = "returned", "Returned"
        CANCELLED = "cancelled", "Cancelled"

    number = models.PositiveIntegerField(unique=True, validators=[MinValueValidator(1), MaxValueValidator(999_999_999)])
    shopper_sub = models.CharField(max_length=128, db_index=True, help_text="The shopper's identity-provider sub.")
    placed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED)
    total = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-placed_at", "-number"]

    def __str__(self) -> str:
        return f"Order {self.number}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, related_name="items", on_delete=models.CASCADE)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(10_000)])
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"
