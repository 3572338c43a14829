"""Amazon Bedrock backends.

bedrock-agent: InvokeAgent on an agent whose action group `store-tools` returns
control: the agent names a function and parameters, the product runs it through the
ToolBox (so the store's database role and row-level security apply) and sends the
result back. The store and shopper reach the agent only as session attributes set
here from the context; the model never chooses them.

bedrock-converse: ConverseStream with the same three tools as a tool configuration;
the conversation's history comes from the stored answers.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from assistant.backends.aws import runtime_client, stream_in_thread, with_throttle_retries
from assistant.backends.base import AgentBackend, AgentUnavailable, Event, TextDelta, ToolActivity, ToolBox, Turn
from assistant.tools import TOOLS, ToolResult
from tenants.context import TenantContext

log = logging.getLogger(__name__)

ACTION_GROUP = "store-tools"
AGENT_INSTRUCTION = (
    "You are the shopping assistant of an online store. Answer only questions about the store's return "
    "policy and the signed-in shopper's own orders, using the functions of the store-tools action group. "
    "Never guess a policy: if a function fails, say the information is unavailable. The functions already "
    "know which store and which shopper this is; they take no store, user or account parameters."
)


def _failed(result: ToolResult) -> bool:
    # "not_found" is an answer (no such order of yours); the rest let the model try again.
    return result.outcome not in ("ok", "not_found")


class _BedrockBackend(AgentBackend):
    """Options every Bedrock backend shares: region, tool rounds, retries, timeouts."""

    service = ""

    def __init__(
        self,
        region: str | None = None,
        max_rounds: int = 5,
        throttle_retries: int = 3,
        backoff: float = 0.5,
        read_timeout: float = 60,
        connect_timeout: float = 5,
        **options,
    ):
        super().__init__(**options)
        self.region = region
        self.max_rounds = max_rounds
        self.throttle_retries = throttle_retries
        self.backoff = backoff
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout

    def client(self):
        return runtime_client(
            self.service, region=self.region, read_timeout=self.read_timeout, connect_timeout=self.connect_timeout
        )


class BedrockAgentBackend(_BedrockBackend):
    name = "bedrock-agent"
    service = "bedrock-agent-runtime"

    def __init__(
        self,
        agent_id: str = "",
        agent_alias_id: str = "",
        enable_trace: bool = False,
        lambda_credentials: bool = False,
        **options,
    ):
        super().__init__(**options)
        if not agent_id or not agent_alias_id:
            raise ImproperlyConfigured("bedrock-agent needs BEDROCK_AGENT_ID and BEDROCK_AGENT_ALIAS_ID")
        self.agent_id = agent_id
        self.agent_alias_id = agent_alias_id
        self.enable_trace = enable_trace
        self.lambda_credentials = lambda_credentials
        if lambda_credentials:
            log.warning(
                "bedrock-agent lambda mode: tenant credentials travel to the agent in session attributes; "
                "prefer return of control"
            )

    @staticmethod
    def session_id(ctx: TenantContext, conversation_id: str) -> str:
        """Scoped to the store and the conversation; matches [0-9a-zA-Z._:-]{2,100}."""
        return f"{ctx.tenant_id}.{uuid.UUID(conversation_id).hex}"

    def session_attributes(self, ctx: TenantContext, tools: ToolBox) -> dict[str, str]:
        attributes = {"tenantId": ctx.tenant_id, "userId": ctx.shopper_sub or ""}
        if self.lambda_credentials:
            credential = tools.aws_credential
            if credential is None:
                raise AgentUnavailable("The assistant is not set up correctly. The store has been notified.")
            # Only in sessionAttributes (seen by the action group), never promptSessionAttributes.
            attributes.update(
                accessKeyId=credential.access_key_id,
                secretAccessKey=credential.secret_access_key,
                sessionToken=credential.session_token,
            )
        return attributes

    async def stream(
        self, *, ctx: TenantContext, prompt: str, history: list[Turn], tools: ToolBox, conversation_id: str
    ) -> AsyncIterator[Event]:
        client = self.client()
        base = {
            "agentId": self.agent_id,
            "agentAliasId": self.agent_alias_id,
            "sessionId": self.session_id(ctx, conversation_id),
            "enableTrace": self.enable_trace,
            "streamingConfigurations": {"streamFinalResponse": True},
        }
        attributes = self.session_attributes(ctx, tools)
        request: dict[str, Any] = {**base, "inputText": prompt, "sessionState": {"sessionAttributes": attributes}}
        shown = {"text": False}  # read late by the retry helper
        for _ in range(self.max_rounds):
            control = None

            def attempt(request=request):
                def open_stream():
                    response = client.invoke_agent(**request)
                    completion = response["completion"]
                    return completion, completion.close

                return stream_in_thread(open_stream)

            async for event in with_throttle_retries(
                attempt, retries=self.throttle_retries, backoff=self.backoff, shown=lambda: shown["text"]
            ):
                if "chunk" in event:
                    text = event["chunk"].get("bytes", b"").decode("utf-8", "replace")
                    if text:
                        shown["text"] = True
                        yield TextDelta(text)
                elif "returnControl" in event:
                    control = event["returnControl"]
                elif "trace" in event:
                    # Traces hold the whole prompt; they stay on the server and are not logged.
                    continue
            if control is None:
                return
            results = []
            for invocation in control.get("invocationInputs", []):
                function = invocation.get("functionInvocationInput")
                if function is None:
                    continue
                name = function.get("function", "")
                arguments = {p.get("name"): p.get("value") for p in function.get("parameters", []) or []}
                yield ToolActivity(name)
                result = await tools.call(name, arguments)
                entry = {
                    "actionGroup": function.get("actionGroup", ACTION_GROUP),
                    "function": name,
                    "responseBody": {"TEXT": {"body": result.as_json()}},
                }
                if _failed(result):
                    entry["responseState"] = "REPROMPT"
                results.append({"functionResult": entry})
            request = {
                **base,
                "sessionState": {
                    "invocationId": control.get("invocationId", ""),
                    "returnControlInvocationResults": results,
                    "sessionAttributes": attributes,
                },
            }
        raise AgentUnavailable("The assistant could not finish this answer. Please try again.")


def tool_configuration() -> dict:
    tools = []
    for spec in TOOLS.values():
        schema = {
            "type": "object",
            "properties": {name: dict(param) for name, param in spec.parameters.items()},
            "required": list(spec.required),
        }
        tools.append(
            {"toolSpec": {"name": spec.name, "description": spec.description, "inputSchema": {"json": schema}}}
        )
    return {"tools": tools}


class BedrockConverseBackend(_BedrockBackend):
    name = "bedrock-converse"
    service = "bedrock-runtime"

    def __init__(self, model_id: str = "", max_tokens: int = 1024, temperature: float = 0.2, **options):
        super().__init__(**options)
        if not model_id:
            raise ImproperlyConfigured("bedrock-converse needs BEDROCK_MODEL_ID")
        self.model_id = model_id
        self.inference = {"maxTokens": max_tokens, "temperature": temperature}

    @staticmethod
    def messages(history: list[Turn], prompt: str) -> list[dict]:
        messages = []
        for turn in history:
            messages.append({"role": "user", "content": [{"text": turn.prompt}]})
            messages.append({"role": "assistant", "content": [{"text": turn.answer or "(no answer)"}]})
        messages.append({"role": "user", "content": [{"text": prompt}]})
        return messages

    async def stream(
        self, *, ctx: TenantContext, prompt: str, history: list[Turn], tools: ToolBox, conversation_id: str
    ) -> AsyncIterator[Event]:
        client = self.client()
        messages = self.messages(history, prompt)
        system = [{"text": f"{AGENT_INSTRUCTION} The store is called {ctx.store_name}."}]
        shown = {"text": False}  # read late by the retry helper
        for _ in range(self.max_rounds):
            blocks: dict[int, dict] = {}
            stop_reason = None

            def attempt(messages=messages):
                request = {
                    "modelId": self.model_id,
                    "messages": messages,
                    "system": system,
                    "toolConfig": tool_configuration(),
                    "inferenceConfig": self.inference,
                }

                def open_stream():
                    response = client.converse_stream(**request)
                    events = response["stream"]
                    return events, events.close

                return stream_in_thread(open_stream)

            async for event in with_throttle_retries(
                attempt, retries=self.throttle_retries, backoff=self.backoff, shown=lambda: shown["text"]
            ):
                if "contentBlockStart" in event:
                    start = event["contentBlockStart"]
                    tool_use = start.get("start", {}).get("toolUse")
                    if tool_use:
                        blocks[start.get("contentBlockIndex", 0)] = {"toolUse": dict(tool_use), "input": ""}
                elif "contentBlockDelta" in event:
                    delta = event["contentBlockDelta"]
                    index = delta.get("contentBlockIndex", 0)
                    if "text" in delta.get("delta", {}):
                        text = delta["delta"]["text"]
                        blocks.setdefault(index, {"text": ""})
                        blocks[index]["text"] = blocks[index].get("text", "") + text
                        if text:
                            shown["text"] = True
                            yield TextDelta(text)
                    elif "toolUse" in delta.get("delta", {}):
                        blocks.setdefault(index, {"toolUse": {}, "input": ""})
                        blocks[index]["input"] += delta["delta"]["toolUse"].get("input", "")
                elif "messageStop" in event:
                    stop_reason = event["messageStop"].get("stopReason")
            if stop_reason != "tool_use":
                return
            assistant_content, results = [], []
            for index in sorted(blocks):
                block = blocks[index]
                if "toolUse" not in block:
                    if block.get("text"):
                        assistant_content.append({"text": block["text"]})
                    continue
                tool_use = block["toolUse"]
                try:
                    arguments = json.loads(block["input"] or "{}")
                except ValueError:
                    arguments = None
                assistant_content.append(
                    {
                        "toolUse": {
                            "toolUseId": tool_use.get("toolUseId", ""),
                            "name": tool_use.get("name", ""),
                            "input": arguments if isinstance(arguments, dict) else {},
                        }
                    }
                )
                yield ToolActivity(tool_use.get("name", ""))
                result = await tools.call(tool_use.get("name", ""), arguments)
                results.append(
                    {
                        "toolResult": {
                            "toolUseId": tool_use.get("toolUseId", ""),
                            "content": [{"json": {"outcome": result.outcome, **result.data}}],
                            "status": "error" if _failed(result) else "success",
                        }
                    }
                )
            messages = [
                *messages,
                {"role": "assistant", "content": assistant_content},
                {"role": "user", "content": results},
            ]
        raise AgentUnavailable("The assistant could not finish this answer. Please try again.")
