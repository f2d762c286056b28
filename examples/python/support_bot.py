"""SupportBot in Python, with the OpenAI Agents SDK: the Python twin of examples/support-bot.ts.

    .venv/bin/python examples/python/support_bot.py

It answers a ticket about a broken order. The agent looks the order up with a tool, then refunds $250 through
a tool guarded by the hub, so a policy such as "Refunds over $100 need a human" makes it wait until a person
approves in the hub. With the kill switch on, or the agent paused, it issues no refund and says why. The run,
its model calls (tokens, cost), tool calls and the refund show in the hub.

The model is scripted (a loopback OpenAI-compatible server in this process): no OpenAI key, no network. Reads
AGENTOPS_HUB_URL (default http://localhost:3000), AGENTOPS_API_KEY (an `ingest` key) and AGENTOPS_AGENT
(default SupportBot).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Dict

from agents import (
    Agent,
    OpenAIChatCompletionsModel,
    Runner,
    function_tool,
    set_trace_processors,
)
from openai import AsyncOpenAI

from agentops_hub import AgentOps, AgentPausedError, PolicyBlockedError, PolicyDecision
from agentops_hub.integrations.openai_agents import (
    AgentOpsTracingProcessor,
    guarded_tool,
)

sys.path.insert(0, str(Path(__file__).parent))
from scripted_model import ScriptedModel  # noqa: E402

ORDERS: Dict[str, Dict[str, Any]] = {
    "A-1001": {
        "order_id": "A-1001",
        "customer": "Sam Okafor",
        "item": "Espresso machine",
        "total_usd": 250,
        "status": "delivered",
    },
}
REFUNDS: list = []

agentops = AgentOps(agent=os.environ.get("AGENTOPS_AGENT") or "SupportBot")
# The hub records the agent's traces; OpenAI's own trace exporter is left out (no network).
set_trace_processors([AgentOpsTracingProcessor(agentops)])


@function_tool
def lookup_order(order_id: str) -> Dict[str, Any]:
    """Looks an order up by its id."""
    return ORDERS[order_id]


def waiting(d: PolicyDecision) -> None:
    names = ", ".join(r.name for r in d.reasons)
    print(
        f"  a policy asks a person first ({names}); waiting for approval {d.approval_id}…",
        flush=True,
    )


@guarded_tool(
    agentops,
    action=lambda a: {
        "type": "issue_refund",
        "order_id": a["order_id"],
        "amount": a["amount"],
        "currency": "usd",
    },
    on_approval_required=waiting,
    on_blocked="raise",  # a scripted model cannot read a refusal: stop the run (the default tells the model)
)
def issue_refund(order_id: str, amount: float) -> Dict[str, Any]:
    """Refunds an order through the payment provider."""
    refund = {
        "refund_id": f"re_{len(REFUNDS) + 1}",
        "order_id": order_id,
        "amount_usd": amount,
    }
    REFUNDS.append(refund)
    return refund


def main() -> int:
    ticket = {
        "id": "T-4711",
        "order_id": "A-1001",
        "text": "My espresso machine arrived broken. I want my money back.",
    }
    print(
        f'SupportBot: ticket {ticket["id"]} ("{ticket["text"]}"), hub {agentops.hub_url}'
    )
    model = ScriptedModel(
        "gpt-4o-mini",
        [
            {
                "tool_calls": [("lookup_order", {"order_id": "A-1001"})],
                "input_tokens": 812,
                "output_tokens": 24,
            },
            {
                "tool_calls": [("issue_refund", {"order_id": "A-1001", "amount": 250})],
                "input_tokens": 905,
            },
            {
                "content": "Sorry about the broken machine, Sam. I have refunded the full $250.",
                "input_tokens": 980,
            },
        ],
    )
    agent = Agent(
        name="SupportBot",
        instructions="You are a support agent. Look the order up, refund broken items, and answer the customer.",
        model=OpenAIChatCompletionsModel(
            model="gpt-4o-mini",
            openai_client=AsyncOpenAI(base_url=model.base_url, api_key="scripted"),
        ),
        tools=[lookup_order, issue_refund],
    )
    try:
        with agentops.run(
            "handle-ticket", input=ticket, external_ref=ticket["id"]
        ) as run:
            result = Runner.run_sync(
                agent,
                f"Ticket {ticket['id']} about order {ticket['order_id']}: {ticket['text']}",
            )
            run.output = {"reply": result.final_output, "refunds": REFUNDS}
        print(f"  refund issued: {json.dumps(REFUNDS[0])}")
        print(f"  reply to customer: {result.final_output}")
        print("SupportBot: done.")
        return 0
    except AgentPausedError as e:
        print(
            f"SupportBot: no refund issued, the agent is paused by the hub ({e.hold.reason}): {e.hold.message}"
        )
        return 0
    except PolicyBlockedError as e:
        print(f"SupportBot: no refund issued, blocked: {e}")
        return 0
    finally:
        model.close()
        agentops.shutdown()


if __name__ == "__main__":
    sys.exit(main())
