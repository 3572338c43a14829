"""A logging filter that removes secrets from every record before it is written.

Attached to the console handler, so it covers Django, Channels, uvicorn, botocore
and anything else that logs through it. Matches AWS access keys and secrets, session
tokens, SigV4 authorization headers, passwords, OAuth codes and tokens, JWTs and
the assistant's signed database credentials.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_PATTERNS = [
    # AWS access key ids (long-term AKIA, temporary ASIA)
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),
    # key = value / "key": "value" forms of secrets
    (
        re.compile(
            r"(?i)((?:secret_?access_?key|aws_secret_access_key|session_?token|security_?token|x-amz-security-token|"
            r"password|passwd|client_?secret|id_token|access_token|refresh_token|authorization)"
            r"[\"']?\s*[:=]\s*[\"']?)([^\"'\s,;&}]+)"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)(AWS4-HMAC-SHA256\s+Credential=)\S+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(Bearer\s+)[\w\-.~+/]+=*"), r"\1" + REDACTED),
    # OAuth authorization codes and state in URLs (callback logs)
    (re.compile(r"([?&](?:code|state)=)[^&\s\"']+"), r"\1" + REDACTED),
    # JWTs
    (re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"), REDACTED),
    # Django signing tokens of the credential vendor (compressed payloads start with '.')
    (re.compile(r"\.eJ[\w-]{20,}:[\w-]+:[\w-]+"), REDACTED),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True
