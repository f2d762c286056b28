/**
 * `npm run -s example:outreach-bot`: OutreachBot drafts discount emails to three customers with the Vercel AI
 * SDK (a scripted model from `ai/test`, no network) and sends each through `guard({type: 'send_email', …})`.
 * The AI SDK telemetry integration records each model call; the hub decides each email: with the README's
 * "Discounts over 10% need a human" policy the 15% offer waits for a person (up to
 * OUTREACH_APPROVAL_TIMEOUT_S, default 120 s) and is skipped if nobody decides.
 *
 * Reads AGENTOPS_HUB_URL (default http://localhost:3000) and AGENTOPS_API_KEY.
 */
import { AgentPausedError, createAgentOps, PolicyBlockedError } from '@agentops-hub/sdk';
import { agentOpsTelemetry } from '@agentops-hub/sdk/ai-sdk';
import { generateText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';

const agentops = createAgentOps({ agent: 'OutreachBot' });
const approvalTimeoutMs = Number(process.env.OUTREACH_APPROVAL_TIMEOUT_S ?? 120) * 1000;

const leads = [
  { email: 'dana@example.test', name: 'Dana', discount: 5 },
  { email: 'sam@example.test', name: 'Sam', discount: 10 },
  { email: 'lee@example.test', name: 'Lee', discount: 15 },
];

/** A scripted model: writes a short email for whoever the prompt names. */
const model = new MockLanguageModelV3({
  provider: 'openai.chat',
  modelId: 'gpt-4o-mini',
  doGenerate: async (options) => {
    const prompt = JSON.stringify(options.prompt);
    const name = /Write to (\w+)/.exec(prompt)?.[1] ?? 'there';
    const discount = /(\d+)% discount/.exec(prompt)?.[1] ?? '5';
    return {
      content: [{ type: 'text', text: `Hi ${name}, as a thank-you here is ${discount}% off your next order. — Acme` }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: 120, noCache: 120, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: 40, text: 40, reasoning: undefined },
      },
      warnings: [],
    };
  },
});

let sent = 0;
await agentops.run('spring-campaign', async (run) => {
  for (const lead of leads) {
    const { text } = await generateText({
      model,
      prompt: `Write to ${lead.name} offering a ${lead.discount}% discount.`,
      experimental_telemetry: { isEnabled: true, functionId: 'draft-email', integrations: agentOpsTelemetry(agentops) },
    });
    try {
      await run.guard(
        { type: 'send_email', to: lead.email, discount: lead.discount, campaign: 'spring' },
        () => {
          console.log(`  sent to ${lead.email}: "${text}"`);
          sent++;
        },
        {
          approvalTimeoutMs,
          onApprovalRequired: (d) =>
            console.log(`  ${lead.email} (${lead.discount}%): waiting for approval ${d.approval_id}…`),
        },
      );
    } catch (e) {
      if (e instanceof AgentPausedError) {
        console.log(`OutreachBot: stopping, the agent is paused (${e.hold.reason}): ${e.hold.message}`);
        return;
      }
      if (e instanceof PolicyBlockedError) console.log(`  not sent to ${lead.email}: ${e.message}`);
      else throw e;
    }
  }
});
console.log(`OutreachBot: ${sent} of ${leads.length} emails sent (hub ${agentops.hubUrl}).`);
await agentops.shutdown();
