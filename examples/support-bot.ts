/**
 * `npm run -s example:support-bot`: SupportBot answers a ticket about a broken order. Inside one run it looks
 * the order up with a tool, asks the (scripted) model what to do, then refunds $250 through `guard`, so a
 * policy such as "Refunds over $100 need a human" makes it wait until a person approves in the hub. With the
 * kill switch on, or the agent paused, it takes no external action and says why.
 *
 * Reads AGENTOPS_HUB_URL (default http://localhost:3000) and AGENTOPS_API_KEY.
 */
import { AgentPausedError, createAgentOps, PolicyBlockedError } from '@agentops-hub/sdk';
import { wrapOpenAI } from '@agentops-hub/sdk/openai';
import OpenAI from 'openai';
import { scriptedFetch } from './lib/scripted-openai.ts';
import { issueRefund, lookupOrder } from './lib/shop.ts';

const agentops = createAgentOps({ agent: 'SupportBot' });
const openai = wrapOpenAI(
  new OpenAI({
    apiKey: 'scripted',
    baseURL: 'http://scripted.model.invalid/v1',
    fetch: scriptedFetch('gpt-4o-mini', [
      {
        content: JSON.stringify({
          decision: 'refund',
          amount: 250,
          reply: 'Sorry about the broken machine, Sam. I have refunded the full $250.',
        }),
        input_tokens: 812,
        output_tokens: 64,
      },
    ]),
  }),
  agentops,
);

const ticket = { id: 'T-4711', order_id: 'A-1001', text: 'My espresso machine arrived broken. I want my money back.' };
console.log(`SupportBot: ticket ${ticket.id} ("${ticket.text}"), hub ${agentops.hubUrl}`);

try {
  await agentops.run(
    'handle-ticket',
    async (run) => {
      const started = Date.now();
      const order = lookupOrder(ticket.order_id);
      run.recordToolCall({
        tool: 'lookup_order',
        args: { order_id: ticket.order_id },
        result: order,
        duration_ms: Date.now() - started,
      });
      if (!order) throw new Error(`order ${ticket.order_id} not found`);
      console.log(`  looked up ${order.order_id}: ${order.item}, $${order.total_usd}, ${order.status}`);

      const completion = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'You are a support agent. Answer with JSON {decision, amount, reply}.' },
          { role: 'user', content: `Ticket: ${ticket.text}\nOrder: ${JSON.stringify(order)}` },
        ],
      });
      const plan = JSON.parse(completion.choices[0].message.content ?? '{}') as { amount: number; reply: string };
      console.log(`  the model proposes a refund of $${plan.amount}`);

      const refund = await run.guard(
        { type: 'issue_refund', order_id: order.order_id, amount: plan.amount, currency: 'usd' },
        () => issueRefund(order.order_id, plan.amount),
        {
          onApprovalRequired: (d) =>
            console.log(
              `  a policy asks a person first (${d.reasons.map((r) => r.name).join(', ')}); waiting for approval ${d.approval_id}…`,
            ),
        },
      );
      console.log(`  refund issued: ${JSON.stringify(refund)}`);
      console.log(`  reply to customer: ${plan.reply}`);
      return { refund, reply: plan.reply };
    },
    { input: ticket, external_ref: ticket.id },
  );
  console.log('SupportBot: done.');
} catch (e) {
  if (e instanceof AgentPausedError) {
    console.log(`SupportBot: no refund issued, the agent is paused by the hub (${e.hold.reason}): ${e.hold.message}`);
  } else if (e instanceof PolicyBlockedError) {
    console.log(`SupportBot: no refund issued, blocked: ${e.message}`);
  } else {
    console.error('SupportBot failed:', e);
    process.exitCode = 1;
  }
} finally {
  await agentops.shutdown();
}
