"""`bedrock_agent_sync` against botocore's Stubber: first run creates, second updates."""

from __future__ import annotations

import boto3
from botocore.stub import ANY, Stubber

from assistant.agent_sync import agent_sync, function_schema

ROLE = "arn:aws:iam::123456789012:role/agent-role"
NOW = "2026-12-03T00:00:00Z"


def client():
    return boto3.client("bedrock-agent", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def agent(status):
    return {
        "agent": {
            "agentId": "AGENT12345",
            "agentName": "storefront-assistant",
            "agentArn": "arn:x",
            "agentVersion": "DRAFT",
            "agentStatus": status,
            "idleSessionTTLInSeconds": 1800,
            "agentResourceRoleArn": ROLE,
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    }


def group():
    return {
        "agentActionGroup": {
            "agentId": "AGENT12345",
            "agentVersion": "DRAFT",
            "actionGroupId": "GROUP12345",
            "actionGroupName": "store-tools",
            "actionGroupState": "ENABLED",
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    }


def alias(alias_id="ALIAS12345"):
    return {
        "agentAlias": {
            "agentId": "AGENT12345",
            "agentAliasId": alias_id,
            "agentAliasName": "live",
            "agentAliasArn": "arn:x",
            "agentAliasStatus": "CREATING",
            "createdAt": NOW,
            "routingConfiguration": [],
            "updatedAt": NOW,
        }
    }


def test_first_run_creates_everything_with_return_of_control():
    c = client()
    with Stubber(c) as stub:
        stub.add_response("list_agents", {"agentSummaries": []}, {"maxResults": 100})
        stub.add_response(
            "create_agent",
            agent("CREATING"),
            {
                "agentName": "storefront-assistant",
                "foundationModel": "model-x",
                "instruction": ANY,
                "agentResourceRoleArn": ROLE,
                "idleSessionTTLInSeconds": 1800,
                "description": ANY,
            },
        )
        stub.add_response("get_agent", agent("CREATING"), {"agentId": "AGENT12345"})
        stub.add_response("get_agent", agent("NOT_PREPARED"), {"agentId": "AGENT12345"})
        stub.add_response(
            "list_agent_action_groups",
            {"actionGroupSummaries": []},
            {"agentId": "AGENT12345", "agentVersion": "DRAFT", "maxResults": 100},
        )
        stub.add_response(
            "create_agent_action_group",
            group(),
            {
                "agentId": "AGENT12345",
                "agentVersion": "DRAFT",
                "actionGroupName": "store-tools",
                "actionGroupExecutor": {"customControl": "RETURN_CONTROL"},
                "functionSchema": function_schema(),
                "actionGroupState": "ENABLED",
                "description": ANY,
            },
        )
        stub.add_response(
            "prepare_agent",
            {"agentId": "AGENT12345", "agentStatus": "PREPARING", "agentVersion": "DRAFT", "preparedAt": NOW},
            {"agentId": "AGENT12345"},
        )
        stub.add_response("get_agent", agent("PREPARED"), {"agentId": "AGENT12345"})
        stub.add_response(
            "list_agent_aliases", {"agentAliasSummaries": []}, {"agentId": "AGENT12345", "maxResults": 100}
        )
        stub.add_response("create_agent_alias", alias(), {"agentId": "AGENT12345", "agentAliasName": "live"})
        result = agent_sync(
            client=c, name="storefront-assistant", model="model-x", role_arn=ROLE, alias="live", sleep=lambda s: None
        )
        stub.assert_no_pending_responses()
    assert (result.agent_id, result.agent_alias_id, result.created) == (
        "AGENT12345",
        "ALIAS12345",
        ["agent", "action group", "alias"],
    )


def test_second_run_updates_in_place():
    c = client()
    with Stubber(c) as stub:
        stub.add_response(
            "list_agents",
            {
                "agentSummaries": [
                    {
                        "agentId": "AGENT12345",
                        "agentName": "storefront-assistant",
                        "agentStatus": "PREPARED",
                        "updatedAt": NOW,
                    }
                ]
            },
            {"maxResults": 100},
        )
        stub.add_response(
            "update_agent",
            agent("UPDATING"),
            {
                "agentId": "AGENT12345",
                "agentName": "storefront-assistant",
                "foundationModel": "model-x",
                "instruction": ANY,
                "agentResourceRoleArn": ROLE,
                "idleSessionTTLInSeconds": 1800,
                "description": ANY,
            },
        )
        stub.add_response("get_agent", agent("NOT_PREPARED"), {"agentId": "AGENT12345"})
        stub.add_response(
            "list_agent_action_groups",
            {
                "actionGroupSummaries": [
                    {
                        "actionGroupId": "GROUP12345",
                        "actionGroupName": "store-tools",
                        "actionGroupState": "ENABLED",
                        "updatedAt": NOW,
                    }
                ]
            },
            {"agentId": "AGENT12345", "agentVersion": "DRAFT", "maxResults": 100},
        )
        stub.add_response(
            "update_agent_action_group",
            group(),
            {
                "agentId": "AGENT12345",
                "agentVersion": "DRAFT",
                "actionGroupId": "GROUP12345",
                "actionGroupName": "store-tools",
                "actionGroupExecutor": {"customControl": "RETURN_CONTROL"},
                "functionSchema": function_schema(),
                "actionGroupState": "ENABLED",
                "description": ANY,
            },
        )
        stub.add_response(
            "prepare_agent",
            {"agentId": "AGENT12345", "agentStatus": "PREPARING", "agentVersion": "DRAFT", "preparedAt": NOW},
            {"agentId": "AGENT12345"},
        )
        stub.add_response("get_agent", agent("PREPARED"), {"agentId": "AGENT12345"})
        stub.add_response(
            "list_agent_aliases",
            {
                "agentAliasSummaries": [
                    {
                        "agentAliasId": "ALIAS12345",
                        "agentAliasName": "live",
                        "agentAliasStatus": "PREPARED",
                        "createdAt": NOW,
                        "updatedAt": NOW,
                    }
                ]
            },
            {"agentId": "AGENT12345", "maxResults": 100},
        )
        stub.add_response(
            "update_agent_alias",
            alias(),
            {"agentId": "AGENT12345", "agentAliasId": "ALIAS12345", "agentAliasName": "live"},
        )
        result = agent_sync(
            client=c, name="storefront-assistant", model="model-x", role_arn=ROLE, alias="live", sleep=lambda s: None
        )
        stub.assert_no_pending_responses()
    assert result.created == [] and result.agent_alias_id == "ALIAS12345"


def test_function_schema_has_no_tenant_or_user_parameters():
    schema = function_schema()
    assert [f["name"] for f in schema["functions"]] == ["get_return_policy", "list_my_orders", "get_order"]
    assert schema["functions"][2]["parameters"] == {
        "order_number": {"type": "string", "description": "The order number, digits only, e.g. 1001", "required": True}
    }
    assert all(set(f["parameters"]) <= {"order_number"} for f in schema["functions"])
