"""Every operation that talks to the hub, written once as a *flow*: a generator that yields the requests
(``Call``) and waits (``Sleep``) it needs and returns the result. ``AgentOps`` (and the telemetry thread)
drive a flow with blocking calls, ``AsyncAgentOps`` with awaits, so the two clients cannot drift."""

from __future__ import annotations

import logging
import math
import random
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, Generator, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union, cast

from ._runs import _current, _random_id
from ._transport import Response, SyncTransport, retry_after, to_api_error
from ._types import (
    Action,
    Approval,
    ControlHold,
    ControlsState,
    HoldMode,
    PolicyDecision,
    PolicyFailure,
    PolicyReason,
)
from .errors import AgentOpsError, AgentPausedError, ApiError, PolicyBlockedError

log = logging.getLogger("agentops_hub")

T = TypeVar("T")

CONTROL_REASONS = frozenset({"kill_switch", "agent_paused", "category_paused"})
#: Without a timeout, an approval is awaited until it expires; before the hub has said when, at most this long
#: (the longest approval timeout a policy can set: 30 days).
MAX_APPROVAL_WAIT_S = 30 * 86_400.0
AGENT_INFO_TTL_S = 300.0


@dataclass
class Call:
    """A request a flow needs; the driver answers with a ``Response`` or throws an ``ApiError`` into it."""

    method: str
    path: str
    body: Any = None
    attempts: Optional[int] = None
    timeout: Optional[float] = None
    deadline: Optional[float] = None


@dataclass
class Sleep:
    seconds: float


Step = Union[Call, Sleep]
Flow = Generator[Step, Any, T]


def control_hold_of(d: PolicyDecision) -> Optional[ControlHold]:
    """The emergency control behind a BLOCK decision, if a control (not a policy) decided it."""
    if d.decision != "BLOCK":
        return None
    for r in d.reasons:
        if r.policy_id is None and r.name in CONTROL_REASONS:
            mode: HoldMode = "failsafe" if r.effect == "failsafe" else "block"
            return ControlHold(cast(Any, r.name), mode, r.message or r.name)
    return None


def _policy_names(d: PolicyDecision) -> str:
    names = [f'"{r.name}"' for r in d.reasons if r.policy_id is not None or r.name not in CONTROL_REASONS]
    return ", ".join(names) or "(no policy named)"


def _hold_from_controls(
    state: Mapping[str, Any], agent: Optional[str], info: Optional[Tuple[Optional[str], Sequence[str]]]
) -> Optional[ControlHold]:
    ks = state.get("kill_switch") or {}
    if ks.get("engaged"):
        why = f": {ks['reason']}" if ks.get("reason") else ""
        return ControlHold("kill_switch", "block", f"The kill switch is engaged{why}")
    mine = [p for p in state.get("paused_agents") or [] if agent and agent in (p.get("name"), p.get("agent_id"))]
    if mine:
        p = next((x for x in mine if x.get("mode") == "block"), mine[0])
        why = f": {p['reason']}" if p.get("reason") else ""
        pmode: HoldMode = "failsafe" if p.get("mode") == "failsafe" else "block"
        return ControlHold("agent_paused", pmode, f"Agent {p.get('name')} is paused{why}")
    if info is not None:
        type_, tags = info
        for c in state.get("paused_categories") or []:
            if c.get("category") == type_ or c.get("category") in tags:
                why = f": {c['reason']}" if c.get("reason") else ""
                return ControlHold(
                    "category_paused", "block", f'Agents of category "{c.get("category")}" are paused{why}'
                )
    return None


@dataclass
class GuardOptions:
    """How one ``guard`` asks and waits (see ``AgentOps.guard``)."""

    run_id: Optional[str] = None
    agent: Optional[str] = None
    context: Optional[Mapping[str, Any]] = None
    approval_timeout: Optional[float] = None
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None
    record_action: bool = True


@dataclass
class Allowed:
    """What ``guard`` learned before the action: run it (``skip`` None) or skip it (failsafe)."""

    decision: PolicyDecision
    run_id: Optional[str]
    approval_id: Optional[str] = None
    skip: Optional[ControlHold] = None
    started: float = field(default_factory=time.monotonic)


class FlowsMixin:
    """The flows, as methods of the client (``_BaseClient`` provides what is declared here)."""

    agent: Optional[str]
    disabled: bool
    failsafe: bool
    policy_failure: PolicyFailure
    policy_timeout: float
    approval_timeout: Optional[float]
    _hold: Optional[ControlHold]
    _controls_at: float
    _agent_info: Optional[Tuple[float, Optional[str], List[str]]]
    _id_prefix: str
    _sync: SyncTransport

    def _current_id(self) -> Optional[str]:
        raise NotImplementedError

    def _push(
        self, type_: str, run_id: str, payload: Dict[str, Any], agent: Optional[str] = None, at: Optional[float] = None
    ) -> None:
        raise NotImplementedError

    def _no_decision(self, why: str) -> PolicyDecision:
        is_open = self.policy_failure == "open"
        reason = PolicyReason(None, "hub_unreachable", "fail_open" if is_open else "fail_closed", why)
        return PolicyDecision("ALLOW" if is_open else "BLOCK", "", (reason,), unavailable=True)

    # ── flows ──────────────────────────────────────────────────────────────────────────────────

    def _check_flow(
        self,
        action: Action,
        *,
        run_id: Optional[str] = None,
        agent: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        approval_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Flow[PolicyDecision]:
        if self.disabled:
            return PolicyDecision("ALLOW", "")
        cur = _current.get()
        mine = cur if cur is not None and cur._client is self else None
        who = agent or (mine.agent if mine else None) or self.agent
        if not who:
            return self._no_decision("no agent named: pass agent= or set AGENTOPS_AGENT")
        if not isinstance(action, Mapping) or not action.get("type"):
            return self._no_decision('the action needs a "type"')
        body: Dict[str, Any] = {
            "agent": who,
            "action": dict(action),
            # A retried call must not create a second approval: the hub answers a repeated key with the first decision.
            "idempotency_key": idempotency_key or f"sdk-{self._id_prefix}{_random_id(12)}",
        }
        rid = run_id or (mine.id if mine else None)
        for k, v in (("run_id", rid), ("context", context), ("approval_id", approval_id)):
            if v is not None:
                body[k] = v
        try:
            res: Response = yield Call(
                "POST", "/v1/policy/evaluate", body, attempts=3, deadline=time.monotonic() + self.policy_timeout
            )
        except ApiError as e:
            return self._no_decision(e.message)
        if res.status == 200 and isinstance(res.body, dict) and res.body.get("decision"):
            d = PolicyDecision.from_wire(res.body)
            self._hold = control_hold_of(d)
            return d
        err = to_api_error(res)
        if err.code == "agent_paused":
            self._hold = ControlHold("agent_paused", "block", err.message)
            return PolicyDecision("BLOCK", "", (PolicyReason(None, "agent_paused", "block", err.message),))
        return self._no_decision(f"the hub answered {res.status} {err.code}: {err.message}")

    def _wait_flow(self, approval_id: str, timeout: Optional[float]) -> Flow[Approval]:
        deadline = time.monotonic() + (timeout if timeout is not None else MAX_APPROVAL_WAIT_S)
        last: Optional[Approval] = None
        failures = 0
        path = f"/v1/approvals/{urllib.parse.quote(approval_id, safe='')}"
        while True:
            left = deadline - time.monotonic()
            if last is not None and left <= 0:
                return last
            wait_s = max(0, min(60, math.ceil(left)))
            pause: Optional[float] = None
            try:
                res: Response = yield Call("GET", f"{path}?wait={wait_s}", attempts=1, timeout=wait_s + 15.0)
                if 400 <= res.status < 500 and res.status != 429:
                    raise to_api_error(res)
                if res.status == 200 and isinstance(res.body, dict):
                    failures = 0
                    last = Approval.from_wire(res.body)
                    if last.status != "pending":
                        return last
                    # Without a timeout, wait until the approval expires (the hub then answers `expired`).
                    if timeout is None and last.expires_at:
                        expires = _parse_iso(last.expires_at)
                        if expires is not None:
                            deadline = time.monotonic() + (expires - time.time()) + 5.0
                    continue
                pause = retry_after(res.headers)
            except ApiError as e:
                if 400 <= e.status < 500 and e.status != 429:
                    raise
            failures += 1
            if last is None and time.monotonic() >= deadline:
                raise ApiError("unreachable", 0, f"approval {approval_id}: the hub did not answer in time")
            jitter = random.random() * min(10.0, 0.25 * 2**failures)
            yield Sleep(min(max(0.0, deadline - time.monotonic()), pause if pause is not None else jitter))

    def _decide_flow(self, action: Action, o: GuardOptions) -> Flow[Allowed]:
        """``guard`` up to the action: ask, wait for a person if needed, ask again; then allow, skip or raise."""
        rid = o.run_id or self._current_id()
        d: PolicyDecision = yield from self._check_flow(action, run_id=rid, agent=o.agent, context=o.context)
        approval_id: Optional[str] = None
        if d.decision == "REQUIRE_APPROVAL" and d.approval_id:
            approval_id = d.approval_id
            if o.on_approval_required is not None:
                try:
                    o.on_approval_required(d)
                except Exception:  # a callback's error must not change the decision
                    log.warning("AgentOps: on_approval_required raised", exc_info=True)
            timeout = o.approval_timeout if o.approval_timeout is not None else self.approval_timeout
            approval: Optional[Approval]
            try:
                approval = yield from self._wait_flow(approval_id, timeout)
            except AgentOpsError:
                approval = None
            if approval is None or approval.status != "approved":
                status = approval.status if approval is not None else "unanswered"
                why = "no decision in time" if status == "pending" else status
                raise PolicyBlockedError(d, f"{action.get('type')} was not approved ({why}): {_policy_names(d)}")
            d = yield from self._check_flow(
                action, run_id=rid, agent=o.agent, context=o.context, approval_id=approval_id
            )
        if d.decision == "ALLOW":
            return Allowed(d, rid, approval_id)
        hold = control_hold_of(d) or (self._hold if d.unavailable else None)
        if hold is not None:
            if hold.mode == "failsafe" or self.failsafe:
                if rid is not None:
                    p: Dict[str, Any] = {
                        "message": f"skipped {action.get('type')}: {hold.message}",
                        "log_only": True,
                        "action": dict(action),
                        "hold": {"reason": hold.reason, "mode": hold.mode, "message": hold.message},
                    }
                    if d.decision_id:
                        p["decision_id"] = d.decision_id
                    self._push("log", rid, p)
                return Allowed(d, rid, approval_id, skip=hold)
            raise AgentPausedError(hold)
        if d.unavailable:
            why = d.reasons[0].message if d.reasons and d.reasons[0].message else "hub unreachable"
            raise PolicyBlockedError(d, f"{action.get('type')} not performed: no policy decision ({why})")
        raise PolicyBlockedError(d, f"{action.get('type')} blocked by policy {_policy_names(d)}")

    def _controls_flow(self) -> Flow[Optional[ControlsState]]:
        if self.disabled:
            return None
        try:
            res: Response = yield Call("GET", "/v1/controls", attempts=2)
        except ApiError:
            return None
        if res.status != 200 or not isinstance(res.body, dict):
            return None
        state: ControlsState = res.body
        self._controls_at = time.monotonic()
        info: Optional[Tuple[Optional[str], Sequence[str]]] = None
        if state.get("paused_categories") and self.agent:
            cached = self._agent_info
            if cached is not None and time.monotonic() - cached[0] < AGENT_INFO_TTL_S:
                info = (cached[1], cached[2])
            else:
                try:
                    r: Response = yield Call("GET", f"/v1/agents/{urllib.parse.quote(self.agent, safe='')}", attempts=1)
                    if r.status == 200 and isinstance(r.body, dict):
                        self._agent_info = (time.monotonic(), r.body.get("type"), list(r.body.get("tags") or []))
                        info = (self._agent_info[1], self._agent_info[2])
                except ApiError:
                    pass
        self._hold = _hold_from_controls(state, self.agent, info)
        return state

    def _drive_sync(self, flow: Flow[T]) -> T:
        """Runs a flow with blocking calls (the background thread's way, and ``AgentOps``')."""
        value: Any = None
        exc: Optional[ApiError] = None
        while True:
            try:
                step = flow.throw(exc) if exc is not None else flow.send(value)
            except StopIteration as stop:
                return cast(T, stop.value)
            value, exc = None, None
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                continue
            try:
                value = self._sync.call(
                    step.method,
                    step.path,
                    body=step.body,
                    attempts=step.attempts,
                    timeout=step.timeout,
                    deadline=step.deadline,
                )
            except ApiError as e:
                exc = e


def _parse_iso(s: str) -> Optional[float]:
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
