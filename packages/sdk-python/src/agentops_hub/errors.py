"""What the SDK raises.

Telemetry never raises. These come only from calls whose answer the agent needs: ``guard`` (a refused or
paused action), ``wait_for_approval`` and the explicit API helpers. Like httpx, one base class::

    AgentOpsError
    ├── ApiError            the hub answered with a problem document, or could not be reached
    ├── AgentPausedError    the kill switch, a paused agent or a paused category stopped the action
    ├── PolicyBlockedError  a policy refused the action, its approval was rejected or expired, or no decision
    └── ActionSkipped       failsafe mode skipped a ``with agentops.guard(...)`` block
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

from ._types import ControlHold, PolicyDecision

__all__ = ["ActionSkipped", "AgentOpsError", "AgentPausedError", "ApiError", "PolicyBlockedError"]


class AgentOpsError(Exception):
    """The base class of every error the SDK raises."""


class ApiError(AgentOpsError):
    """The hub answered with a problem document (RFC 9457), or could not be reached (``code == "unreachable"``).

    ``code`` is the hub's stable error code (``validation_failed``, ``unauthenticated``, ``forbidden``,
    ``not_found``, ``conflict``, ``payload_too_large``, ``rate_limited``, ``agent_paused``, ``internal``) or
    ``unreachable``; ``status`` is the HTTP status, 0 when no answer came back.

    Example::

        try:
            agentops.wait_for_approval("apr_missing", timeout=1)
        except ApiError as e:
            print(e.code, e.status)  # not_found 404
    """

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        problem: Optional[Mapping[str, Any]] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.problem = problem
        #: Seconds the hub asked to wait (``Retry-After`` on 429 and 503), when it said.
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ApiError(code={self.code!r}, status={self.status}, message={self.message!r})"


class AgentPausedError(AgentOpsError):
    """An emergency control stops the agent: the org's kill switch, a pause of this agent or of its category.

    ``guard`` raises it instead of running the action (in failsafe mode it skips the action instead).

    Example::

        try:
            agentops.guard({"type": "send_email"}, send)
        except AgentPausedError as e:
            print("stopped:", e.hold.message)
    """

    def __init__(self, hold: ControlHold) -> None:
        super().__init__(f"Agent paused ({hold.reason}): {hold.message}")
        self.hold = hold


class PolicyBlockedError(AgentOpsError):
    """The action was refused: a policy blocked it, its approval was rejected or expired, no decision came in
    time, or the hub was unreachable and policy checks fail closed.

    Example::

        try:
            agentops.guard({"type": "delete_account", "id": "u1"}, delete)
        except PolicyBlockedError as e:
            print(e.policies)  # ['No deletes']
    """

    def __init__(self, decision: PolicyDecision, message: str) -> None:
        super().__init__(message)
        self.decision = decision

    @property
    def policies(self) -> Tuple[str, ...]:
        """The names of the policies (or controls) behind the refusal."""
        return tuple(r.name for r in self.decision.reasons)


class ActionSkipped(AgentOpsError):
    """Failsafe mode skipped the action of a ``with agentops.guard(...)`` block.

    A ``with`` block cannot skip its own body, so the context-manager form raises this where the call and
    decorator forms return None. The skip is already recorded (a ``log`` event with ``log_only: true``).

    Example::

        with contextlib.suppress(ActionSkipped), agentops.guard({"type": "send_email"}):
            send()
    """

    def __init__(self, hold: ControlHold) -> None:
        super().__init__(f"Action skipped (failsafe, {hold.reason}): {hold.message}")
        self.hold = hold
