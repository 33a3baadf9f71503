// Submit an article to the copydesk HTTP gateway and print a digest of its Document.
//
// Node 18+ (built-in fetch), no dependencies:
//   COPYDESK_URL=http://127.0.0.1:8080 COPYDESK_TOKEN=... node examples/http_client.mjs ARTICLE.txt [TITLE]
//
// It POSTs the article, then asks for the result with ?wait=30 (the gateway blocks on
// the result stream until the article is finished), and prints one JSON line.

import { readFile } from "node:fs/promises";

const base = (process.env.COPYDESK_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const token = process.env.COPYDESK_TOKEN;
const [path, title] = process.argv.slice(2);
if (!path) {
  console.error("usage: node http_client.mjs ARTICLE.txt [TITLE]");
  process.exit(2);
}
const headers = token ? { Authorization: `Bearer ${token}` } : {};

async function call(method, url, body) {
  const response = await fetch(base + url, {
    method,
    headers: body ? { ...headers, "Content-Type": "application/json" } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (response.status >= 400) {
    // every refusal is {"error": {"code", "message", "details"}}
    throw new Error(`${response.status} ${data.error.code}: ${data.error.message}`);
  }
  return data;
}

try {
  const text = await readFile(path, "utf8");
  const article = title ? { text, title } : { text };
  const { articles: [submitted] } = await call("POST", "/v1/articles", article);
  console.error(`submitted ${submitted.id} (${submitted.outcome})`);

  let state = { status: "queued" };
  for (let tries = 0; tries < 10 && !["done", "failed"].includes(state.status); tries++) {
    state = await call("GET", `${submitted.location}?wait=30`);
  }
  if (state.status !== "done") {
    throw new Error(`article ${submitted.id} is ${state.status}: ${state.error ?? "still waiting"}`);
  }
  const doc = state.document;
  console.log(JSON.stringify({
    id: doc.id,
    status: doc.status,
    stages: doc.runs.map((run) => `${run.stage}:${run.status}`),
    entities: doc.entities.length,
    quotes: doc.quotes.map((q) => ({ speaker: q.speaker?.canonical ?? null, text: q.text })),
    summary: doc.summary?.text ?? null,
  }));
} catch (error) {
  console.error(`copydesk: ${error.message}`);
  process.exit(1);
}
