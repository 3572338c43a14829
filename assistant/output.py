"""A last filter on what the assistant says: credential-shaped strings never leave
(BR-22), whatever a model was talked into repeating."""

import re

from storefront.logging import redact

_AWS_KEY = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")


def redact_answer_text(text: str) -> str:
    return _AWS_KEY.sub("[redacted]", redact(text))
