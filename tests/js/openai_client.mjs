// The official `openai` npm SDK against an opea-node: chat completions
// streamed and not, and embeddings. Prints one line per check and
// "N passed, M failed" at the end; exits non-zero on any failure.
import OpenAI from "openai";

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: "not-needed" });
let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name} ${detail}`); }
}

const question = "How are restarts of a crashed service limited?";
try {
  const done = await client.chat.completions.create({
    model: "chatqna",
    messages: [{ role: "user", content: question }],
  });
  check("completion object", done.object === "chat.completion", done.object);
  check("completion model", done.model === "chatqna", done.model);
  const content = done.choices[0].message.content;
  check("completion content cites sources", content.includes("Sources:"), content);
  check("completion finish_reason", done.choices[0].finish_reason === "stop");
  check("completion usage", done.usage.total_tokens === done.usage.prompt_tokens + done.usage.completion_tokens);

  const stream = await client.chat.completions.create({
    model: "chatqna",
    stream: true,
    messages: [{ role: "user", content: question }],
  });
  let text = "";
  let chunks = 0;
  let finish = null;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  check("stream chunk count", chunks > 3, String(chunks));
  check("stream text equals the completion", text === content, JSON.stringify(text));
  check("stream finish_reason", finish === "stop", String(finish));

  const emb = await client.embeddings.create({ model: "m", input: ["hello world", "opea"] });
  check("embeddings count", emb.data.length === 2);
  check("embeddings index order", emb.data[0].index === 0 && emb.data[1].index === 1);
  check("embeddings dimension", emb.data[0].embedding.length === 384, String(emb.data[0].embedding.length));

  try {
    await client.chat.completions.create({ model: "chatqna", messages: [] });
    check("empty messages rejected", false, "no error");
  } catch (e) {
    check("empty messages rejected with 400", e.status === 400, String(e.status));
  }
} catch (e) {
  check("no exception", false, String(e));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
