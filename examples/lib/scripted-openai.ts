/**
 * A scripted model behind the official `openai` client: a `fetch` that answers the Chat Completions API
 * from a script instead of the network, with realistic usage figures. The client, the SDK's wrapper and the
 * hub's pricing all run for real; only the model is scripted.
 */
export interface ScriptedReply {
  content: string;
  input_tokens: number;
  output_tokens: number;
}

export function scriptedFetch(model: string, replies: ScriptedReply[]): typeof fetch {
  let turn = 0;
  return async (_url, init) => {
    const request = JSON.parse(String(init?.body ?? '{}')) as { model?: string };
    const reply = replies[Math.min(turn, replies.length - 1)];
    turn++;
    const body = {
      id: `chatcmpl-scripted-${turn}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? model,
      choices: [
        { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: reply.content, refusal: null } },
      ],
      usage: {
        prompt_tokens: reply.input_tokens,
        completion_tokens: reply.output_tokens,
        total_tokens: reply.input_tokens + reply.output_tokens,
      },
    };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}
