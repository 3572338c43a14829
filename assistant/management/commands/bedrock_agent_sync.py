import os

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from assistant.agent_sync import agent_sync, control_client


class Command(BaseCommand):
    help = "Create or update the Bedrock agent with the store-tools action group (return of control) and an alias."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="storefront-assistant")
        parser.add_argument(
            "--model", default=os.environ.get("BEDROCK_FOUNDATION_MODEL", "anthropic.claude-3-5-haiku-20241022-v1:0")
        )
        parser.add_argument(
            "--role-arn",
            default=os.environ.get("BEDROCK_AGENT_ROLE_ARN", ""),
            help="the agent's service role (BEDROCK_AGENT_ROLE_ARN)",
        )
        parser.add_argument("--alias", default="live")
        parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
        parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the agent to be prepared")

    def handle(self, *args, name, model, role_arn, alias, region, wait, **options):
        if not role_arn:
            raise CommandError("--role-arn (or BEDROCK_AGENT_ROLE_ARN) is required")
        try:
            result = agent_sync(
                client=control_client(region), name=name, model=model, role_arn=role_arn, alias=alias, wait_seconds=wait
            )
        except (ClientError, BotoCoreError, RuntimeError, TimeoutError) as exc:
            raise CommandError(f"agent sync failed: {exc}") from None
        self.stdout.write(f"created: {', '.join(result.created) or 'nothing (updated)'}")
        self.stdout.write("Settings to use:")
        self.stdout.write("  ASSISTANT_BACKEND=bedrock-agent")
        self.stdout.write(f"  BEDROCK_AGENT_ID={result.agent_id}")
        self.stdout.write(f"  BEDROCK_AGENT_ALIAS_ID={result.agent_alias_id}")
