"""The SDK's public data types: what the hub answers, as small frozen dataclasses.

Wire field names are kept (snake_case, as the API speaks it); each type keeps the hub's full answer in
``raw`` so fields added to the API later are readable before the SDK names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Literal, Mapping, Optional, Tuple

#: The action an agent asks about: ``{"type": ..., **attributes}``; policies read ``action.<attr>``.
Action = Mapping[str, Any]

#: The event types the hub accepts on ``POST /v1/ingest/events``.
EventType = Literal[
    "run_started",
    "run_completed",
    "run_failed",
    "tool_called",
    "tool_result",
    "external_action",
    "llm_call",
    "log",
]

DecisionKind = Literal["ALLOW", "BLOCK", "REQUIRE_APPROVAL"]
PolicyFailure = Literal["closed", "open"]
HoldReason = Literal["kill_switch", "agent_paused", "category_paused"]
HoldMode = Literal["block", "failsafe"]


@dataclass(frozen=True)
class PolicyReason:
    """One reason of a decision. Emergency controls have no policy: their ``policy_id`` is None."""

    policy_id: Optional[str]
    name: str
    effect: str
    message: Optional[str] = None


@dataclass(frozen=True)
class PolicyDecision:
    """The answer of ``check_policy``, as ``POST /v1/policy/evaluate`` returns it.

    ``unavailable`` is True when the hub gave no answer and the SDK decided by its ``policy_failure``
    setting (``closed``: BLOCK, ``open``: ALLOW).

    Example::

        d = agentops.check_policy({"type": "send_email", "discount": 15})
        if d.allowed:
            send()
    """

    decision: DecisionKind
    decision_id: str
    reasons: Tuple[PolicyReason, ...] = ()
    approval_id: Optional[str] = None
    unavailable: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def allowed(self) -> bool:
        """True when the decision is ALLOW."""
        return self.decision == "ALLOW"

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> PolicyDecision:
        """Builds a decision from the hub's JSON answer."""
        reasons = tuple(
            PolicyReason(
                policy_id=r.get("policy_id"),
                name=str(r.get("name", "")),
                effect=str(r.get("effect", "")),
                message=r.get("message"),
            )
            for r in body.get("reasons") or []
            if isinstance(r, Mapping)
        )
        return cls(
            decision=body["decision"],
            decision_id=str(body.get("decision_id") or ""),
            reasons=reasons,
            approval_id=body.get("approval_id"),
            raw=dict(body),
        )


@dataclass(frozen=True)
class ControlHold:
    """Why the emergency controls stop this agent: the kill switch, a paused agent or a paused category."""

    reason: HoldReason
    mode: HoldMode
    message: str


@dataclass(frozen=True)
class Approval:
    """``GET /v1/approvals/{id}``: a person's decision on an action, or ``pending``."""

    id: str
    status: Literal["pending", "approved", "rejected", "expired"]
    policy_id: Optional[str] = None
    agent_id: Optional[str] = None
    run_id: Optional[str] = None
    action: Mapping[str, Any] = field(default_factory=dict)
    requested_at: Optional[str] = None
    expires_at: Optional[str] = None
    decided_at: Optional[str] = None
    decided_by: Any = None
    comment: Optional[str] = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> Approval:
        """Builds an approval from the hub's JSON answer."""
        return cls(
            id=str(body["id"]),
            status=body["status"],
            policy_id=body.get("policy_id"),
            agent_id=body.get("agent_id"),
            run_id=body.get("run_id"),
            action=body.get("action") or {},
            requested_at=body.get("requested_at"),
            expires_at=body.get("expires_at"),
            decided_at=body.get("decided_at"),
            decided_by=body.get("decided_by"),
            comment=body.get("comment"),
            raw=dict(body),
        )


@dataclass(frozen=True)
class TelemetryStats:
    """Counters of the telemetry pipeline: buffered now, sent, dropped, rejected by the hub, failed attempts."""

    queued: int
    sent: int
    dropped: int
    rejected: int
    failed_attempts: int


#: ``GET /v1/controls`` as the hub answers it: ``{kill_switch, paused_agents, paused_categories}``.
ControlsState = Dict[str, Any]
