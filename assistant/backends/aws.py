"""What the Bedrock backends share: clients, the thread that reads a blocking boto3
event stream, the mapping of every AWS failure to one clear message, and bounded
retries of throttling before anything was shown to the shopper."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import boto3
from botocore.config import Config
from botocore.eventstream import ParserError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from assistant.backends.base import AgentUnavailable

log = logging.getLogger(__name__)

_MESSAGES = {
    "throttling": "The assistant is busy right now. Please try again in a moment.",
    "servicequotaexceeded": "The assistant has reached its usage limit. Please try again later.",
    "accessdenied": "The assistant is not allowed to answer right now. The store has been notified.",
    "validation": "The assistant could not process this question. Please rephrase it.",
    "resourcenotfound": "The assistant is not set up correctly. The store has been notified.",
    "conflict": "The assistant is still busy with this conversation. Please try again.",
    "dependencyfailed": "A service the assistant depends on failed. Please try again.",
    "badgateway": "The assistant service could not be reached. Please try again.",
    "internalserver": "The assistant service had an internal error. Please try again.",
    "modelnotready": "The assistant's model is starting up. Please try again in a minute.",
    "modelstreamerror": "The assistant's model stopped while answering. Please try again.",
    "serviceunavailable": "The assistant service is unavailable. Please try again later.",
    "modeltimeout": "The assistant took too long to answer. Please try again.",
}
_FALLBACK = "The assistant is unavailable right now. Please try again."


def error_kind(code: str) -> str:
    """'throttlingException' / 'ThrottlingException' -> 'throttling'."""
    kind = code.lower()
    return kind[: -len("exception")] if kind.endswith("exception") else kind


class BedrockUnavailable(AgentUnavailable):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind

    @property
    def retryable(self) -> bool:
        return self.kind in ("throttling", "modelnotready", "serviceunavailable")


def translate(exc: BaseException) -> BedrockUnavailable:
    """Every way an AWS call or stream can fail, as one safe message (the details stay in the log)."""
    if isinstance(exc, ClientError):
        kind = error_kind(exc.response.get("Error", {}).get("Code", ""))
        return BedrockUnavailable(kind, _MESSAGES.get(kind, _FALLBACK))
    if isinstance(exc, ReadTimeoutError | Urllib3ReadTimeout | TimeoutError):
        return BedrockUnavailable("timeout", "The assistant took too long to answer. Please try again.")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return BedrockUnavailable("connection", "The assistant service could not be reached. Please try again.")
    return BedrockUnavailable("broken", "The assistant's answer was cut off. Please try again.")


# Reading an event stream can also fail below botocore (urllib3: cut-off body, read timeout).
AWS_ERRORS = (ClientError, BotoCoreError, ParserError, Urllib3Error, OSError, ValueError)


def runtime_client(service: str, *, region: str | None, read_timeout: float, connect_timeout: float):
    """A client for a Bedrock runtime; its endpoint follows boto3's standard
    configuration (AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME, ...). Retries are ours."""
    return boto3.client(
        service,
        region_name=region,
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            read_timeout=read_timeout,
            connect_timeout=connect_timeout,
            tcp_keepalive=True,
        ),
    )


async def stream_in_thread(
    open_stream: Callable[[], tuple[Iterable[dict], Any]],
) -> AsyncIterator[dict]:
    """Run a blocking boto3 call and iterate its event stream on a worker thread
    (never the shared database thread), handing events to the event loop.

    `open_stream` returns (events, closer). Stopping early (the shopper cancelled,
    the answer timed out) closes the HTTP stream so the thread ends too.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()
    holder: dict[str, Any] = {}
    done = object()

    def work() -> None:
        try:
            events, closer = open_stream()
            holder["closer"] = closer
            for event in events:
                if stop.is_set():
                    break
                loop.call_soon_threadsafe(queue.put_nowait, ("event", event))
        except BaseException as exc:  # handed to the event loop, re-raised there
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, ("end", done))

    thread = threading.Thread(target=work, name="bedrock-stream", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = await queue.get()
            if kind == "event":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()
        closer = holder.get("closer")
        if closer is not None:
            try:
                closer()
            except Exception:  # closing a broken stream may fail; nothing to do
                log.debug("closing the event stream failed", exc_info=True)


async def with_throttle_retries(
    attempt: Callable[[], AsyncIterator[Any]], *, retries: int, backoff: float, shown: Callable[[], bool]
) -> AsyncIterator[Any]:
    """Yield from `attempt()`; a retryable failure before anything was shown to the
    shopper is retried with exponential backoff, at most `retries` times."""
    for tries in range(retries + 1):
        try:
            async for item in attempt():
                yield item
            return
        except AWS_ERRORS as exc:
            failure = translate(exc)
            log.warning("bedrock call failed (%s, attempt %d): %s", failure.kind, tries + 1, type(exc).__name__)
            if failure.retryable and not shown() and tries < retries:
                await asyncio.sleep(backoff * (2**tries) * (1 + random.random() / 4))  # noqa: S311
                continue
            raise failure from None
