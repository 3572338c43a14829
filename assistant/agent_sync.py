"""Create or update the Bedrock agent, its return-of-control action group and an
alias, idempotently (`manage.py bedrock_agent_sync`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.config import Config

from assistant.backends.bedrock import ACTION_GROUP, AGENT_INSTRUCTION
from assistant.tools import TOOLS


@dataclass(frozen=True)
class SyncResult:
    agent_id: str
    agent_alias_id: str
    created: list[str]


def function_schema() -> dict:
    functions = []
    for spec in TOOLS.values():
        parameters = {
            name: {
                "type": param.get("type", "string"),
                "description": param.get("description", name),
                "required": name in spec.required,
            }
            for name, param in spec.parameters.items()
        }
        functions.append(
            {
                "name": spec.name,
                "description": spec.description,
                "parameters": parameters,
                "requireConfirmation": "DISABLED",
            }
        )
    return {"functions": functions}


def control_client(region: str | None):
    return boto3.client(
        "bedrock-agent", region_name=region, config=Config(retries={"max_attempts": 5, "mode": "standard"})
    )


def agent_sync(
    *,
    client,
    name: str,
    model: str,
    role_arn: str,
    alias: str,
    wait_seconds: float = 120,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncResult:
    created: list[str] = []
    agents = client.list_agents(maxResults=100).get("agentSummaries", [])
    agent = next((a for a in agents if a.get("agentName") == name), None)
    settings = {
        "agentName": name,
        "foundationModel": model,
        "instruction": AGENT_INSTRUCTION,
        "agentResourceRoleArn": role_arn,
        "idleSessionTTLInSeconds": 1800,
        "description": "Store assistant; tools run in the product (return of control).",
    }
    if agent is None:
        agent_id = client.create_agent(**settings)["agent"]["agentId"]
        created.append("agent")
    else:
        agent_id = agent["agentId"]
        client.update_agent(agentId=agent_id, **settings)
    _wait(client, agent_id, {"NOT_PREPARED", "PREPARED", "FAILED"}, wait_seconds, sleep)

    groups = client.list_agent_action_groups(agentId=agent_id, agentVersion="DRAFT", maxResults=100)
    group = next((g for g in groups.get("actionGroupSummaries", []) if g.get("actionGroupName") == ACTION_GROUP), None)
    group_settings = {
        "agentId": agent_id,
        "agentVersion": "DRAFT",
        "actionGroupName": ACTION_GROUP,
        "actionGroupExecutor": {"customControl": "RETURN_CONTROL"},
        "functionSchema": function_schema(),
        "actionGroupState": "ENABLED",
        "description": "get_return_policy, list_my_orders, get_order(order_number)",
    }
    if group is None:
        client.create_agent_action_group(**group_settings)
        created.append("action group")
    else:
        client.update_agent_action_group(actionGroupId=group["actionGroupId"], **group_settings)

    client.prepare_agent(agentId=agent_id)
    _wait(client, agent_id, {"PREPARED"}, wait_seconds, sleep)

    aliases = client.list_agent_aliases(agentId=agent_id, maxResults=100).get("agentAliasSummaries", [])
    existing = next((a for a in aliases if a.get("agentAliasName") == alias), None)
    if existing is None:
        alias_id = client.create_agent_alias(agentId=agent_id, agentAliasName=alias)["agentAlias"]["agentAliasId"]
        created.append("alias")
    else:
        alias_id = existing["agentAliasId"]
        # Without a routing configuration this points the alias at a new version of DRAFT.
        client.update_agent_alias(agentId=agent_id, agentAliasId=alias_id, agentAliasName=alias)
    return SyncResult(agent_id, alias_id, created)


def _wait(client, agent_id: str, states: set[str], wait_seconds: float, sleep) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        status = client.get_agent(agentId=agent_id)["agent"]["agentStatus"]
        if status in states:
            if status == "FAILED":
                raise RuntimeError("the agent is in state FAILED; see the Bedrock console")
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the agent stayed {status} for {wait_seconds:.0f} s")
        sleep(2)
