/**
 * The agent's third way to wait: `callback_url` on evaluate. The evaluator knows nothing of callbacks;
 * this wraps its `evaluate` so that an answer carrying an approval stores the URL on it and returns
 * `callback_secret`, the key of the `X-Hub-Signature-256` HMAC on the callback (derived per approval from
 * the hub's link secret, so nothing secret is stored). The POST itself is the `approval.callback` job.
 *
 * @example
 * // context.ts
 * const evaluator = withApprovalCallbacks(createEvaluator({ … }), approvals, egress);
 * // the agent
 * const d = await hub.evaluate({ agent: 'Outreach', action, callback_url: 'https://agent.test/cb' });
 * // later, at https://agent.test/cb: verifySignature(d.callback_secret, rawBody, req.headers['x-hub-signature-256'])
 */
import type { Caller } from '../../platform/caller.ts';
import type { EgressGuard } from '../../platform/egress/egress.ts';
import { invalid } from '../../platform/errors.ts';
import type { ApprovalService } from './approvals.service.ts';

type EvaluateFn = (
  caller: Pick<Caller, 'orgId' | 'actor'>,
  input: any,
) => Promise<{ decision: string; approval_id?: string; replayed?: boolean }>;

type EvaluateIntoFn = (
  caller: Pick<Caller, 'orgId' | 'actor'>,
  input: any,
  done: (error: unknown, answer?: unknown) => void,
) => void;

export function withApprovalCallbacks<E extends { evaluate: EvaluateFn; evaluateInto: EvaluateIntoFn }>(
  evaluator: E,
  approvals: Pick<ApprovalService, 'attachCallback'>,
  egress: Pick<EgressGuard, 'checkUrl'>,
): E {
  const inner = evaluator.evaluate;
  const evaluate = (caller: Pick<Caller, 'orgId' | 'actor'>, input: { callback_url?: string }) => {
    // Without a callback the evaluator's own promise is the answer (no extra async layer on the hot path).
    if (!input.callback_url) return inner(caller, input);
    // A URL the hub will never call (loopback, private, metadata…) is refused before anything is decided,
    // so no approval waits on a callback that cannot come. Names are checked again when the job sends.
    const refused = egress.checkUrl(input.callback_url);
    if (refused) return Promise.reject(invalid('callback_url', refused));
    const answered = inner(caller, input);
    return answered.then(async (answer) => {
      // Only a pending approval is waited on; an ALLOW/BLOCK that consumed one needs no callback.
      if (!answer.approval_id || answer.decision !== 'REQUIRE_APPROVAL') return answer;
      const secret = await approvals.attachCallback(caller.orgId, answer.approval_id, input.callback_url!);
      return { ...answer, callback_secret: secret };
    });
  };
  // The callback form (the HTTP route's): untouched without a callback_url, the wrapped evaluate with one.
  const innerInto = evaluator.evaluateInto;
  const evaluateInto: EvaluateIntoFn = (caller, input, done) => {
    if (!input.callback_url) return innerInto(caller, input, done);
    evaluate(caller, input).then((answer) => done(null, answer), done);
  };
  return { ...evaluator, evaluate, evaluateInto } as E;
}
