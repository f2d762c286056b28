"""AgentOps Hub for Python agents: report runs, tool and LLM calls to the hub, ask its policy engine before
sensitive actions, wait for a person's approval, and stop when the agent is paused.

Example::

    from agentops_hub import AgentOps

    agentops = AgentOps(agent="SupportBot")  # AGENTOPS_HUB_URL, AGENTOPS_API_KEY
    with agentops.run("refund-ticket"):
        agentops.guard({"type": "issue_refund", "order_id": "A-1", "amount": 250}, lambda: refund("A-1", 250))

The SDK logs under the ``agentops_hub`` logger and never prints.
"""

from __future__ import annotations

import logging

from ._async import AsyncAgentOps, AsyncGuard, AsyncRun
from ._base import __version__
from ._flows import GuardOptions, control_hold_of
from ._runs import UNSET, RunScope
from ._sync import AgentOps, Guard, Run
from ._types import (
    Action,
    Approval,
    ControlHold,
    ControlsState,
    EventType,
    PolicyDecision,
    PolicyFailure,
    PolicyReason,
    TelemetryStats,
)
from .errors import ActionSkipped, AgentOpsError, AgentPausedError, ApiError, PolicyBlockedError

logging.getLogger("agentops_hub").addHandler(logging.NullHandler())

__all__ = [
    "UNSET",
    "Action",
    "ActionSkipped",
    "AgentOps",
    "AgentOpsError",
    "AgentPausedError",
    "ApiError",
    "Approval",
    "AsyncAgentOps",
    "AsyncGuard",
    "AsyncRun",
    "ControlHold",
    "ControlsState",
    "EventType",
    "Guard",
    "GuardOptions",
    "PolicyBlockedError",
    "PolicyDecision",
    "PolicyFailure",
    "PolicyReason",
    "Run",
    "RunScope",
    "TelemetryStats",
    "__version__",
    "control_hold_of",
]
