"""Conversations, answers and the tool-call audit log; in each store's schema."""

import uuid

from django.db import models


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_sub = models.CharField(max_length=128, db_index=True)
    title = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title or str(self.pk)


class Answer(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        ERROR = "error"

    answer_id = models.CharField(max_length=200, unique=True)
    owner_sub = models.CharField(max_length=128, db_index=True)
    conversation = models.ForeignKey(Conversation, related_name="answers", on_delete=models.CASCADE)
    prompt = models.TextField()
    text = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    chunk_count = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    backend = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_chunk_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.answer_id


class AnswerChunk(models.Model):
    answer = models.ForeignKey(Answer, related_name="chunks", on_delete=models.CASCADE)
    seq = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["answer", "seq"], name="answer_chunk_seq_unique")]
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.answer_id}:{self.seq}"


class ToolCall(models.Model):
    """Audit of every tool the assistant ran: who, what, how it went."""

    class Outcome(models.TextChoices):
        OK = "ok"
        NOT_FOUND = "not_found"
        INVALID = "invalid_arguments"
        DENIED = "access_denied"
        ERROR = "error"

    answer = models.ForeignKey(Answer, null=True, blank=True, related_name="tool_calls", on_delete=models.SET_NULL)
    tenant_id = models.CharField(max_length=40)
    shopper_sub = models.CharField(max_length=128, db_index=True)
    tool = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    result_size = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tool} ({self.outcome})"
