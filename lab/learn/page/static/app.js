// The side-by-side page. No framework and no build: plain DOM, one module.
// Every request goes to this page's own server, which proxies /api/<app>/... to the app on a
// fresh connection per request (so the cluster spreads them over workers) and signs the token.

const APPS = ["broken", "fixed"];
const WORKER_COLOURS = 6; // .w0 ... .w5 in style.css
const SCRIPT = [
  "Hi, my name is Ada.",
  "I live in Lisbon.",
  "I am planning a trip to Kyoto in April.",
  "I would like to travel by train once I am there.",
  "Please keep the budget under 2000 euros.",
  "What was the first thing I told you?",
];

const randomId = (bytes) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");

// One user per browser tab: the proxy signs a token for it, so two tabs never share a chat.
const session = sessionStorage.getItem("web-session") ?? randomId(8);
sessionStorage.setItem("web-session", session);

const $ = (selector, root = document) => root.querySelector(selector);
const columns = Object.fromEntries(
  APPS.map((app) => {
    const root = $(`.column[data-app="${app}"]`);
    return [
      app,
      {
        log: $('[data-role="log"]', root),
        health: $('[data-role="health"]', root),
        tally: $('[data-role="tally"]', root),
      },
    ];
  }),
);

/** Per app: the conversation, what the server acknowledged, and every worker seen so far. */
const state = {};
let conversationId = "";
let busy = 0;

function newConversation() {
  conversationId = `web-${randomId(4)}`;
  for (const app of APPS) {
    state[app] = { sent: 0, acknowledged: 0, forgot: 0, failed: 0, workers: new Set() };
    columns[app].log.replaceChildren();
    renderTally(app);
  }
}

/** Calls the app through the proxy; always resolves, with the answer or a readable failure. */
async function call(app, path, body) {
  const init = { headers: { "x-web-session": session } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(`/api/${app}${path}`, init);
    const data = await response.json().catch(() => ({}));
    if (response.ok) return { ok: true, data };
    const error = data?.error ?? {};
    return {
      ok: false,
      status: response.status,
      code: error.code ?? "unexpected_answer",
      message: error.message ?? `HTTP ${response.status}`,
    };
  } catch (error) {
    return { ok: false, code: "no_answer", message: `the page server did not answer (${error})` };
  }
}

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const workerClass = (id) => `w${((id % WORKER_COLOURS) + WORKER_COLOURS) % WORKER_COLOURS}`;

/** One turn to one app: shows the message at once, then who answered and what it remembered. */
async function sendTurn(app, text) {
  const s = state[app];
  const turn = ++s.sent;
  // What a correct agent sees on this turn: every acknowledged turn's two messages, plus this one.
  const expected = 2 * s.acknowledged + 1;
  const item = el("li", "turn pending");
  item.dataset.turn = String(turn);
  item.dataset.state = "pending";
  const you = el("p", "you");
  you.append(el("span", "who", `#${turn} You:`), text);
  const meta = el("p", "meta");
  const reply = el("p", "reply", "waiting for the agent…");
  item.append(you, meta, reply);
  columns[app].log.append(item);
  item.scrollIntoView({ block: "nearest" });

  const answer = await call(app, `/conversations/${conversationId}/turns`, { text });
  if (answer.ok && (typeof answer.data.messagesSeen !== "number" || !answer.data.servedBy)) {
    Object.assign(answer, {
      ok: false,
      status: 200,
      code: "unexpected_answer",
      message: "the answer is not a turn of the HTTP contract",
    });
  }
  if (!answer.ok) {
    s.failed++;
    item.className = "turn failed";
    item.dataset.state = "failed";
    reply.className = "reply error-text";
    reply.textContent = `✗ ${answer.status ?? "no answer"} ${answer.code}: ${answer.message}`;
    renderTally(app);
    return;
  }
  const { messagesSeen, historyLength, servedBy } = answer.data;
  s.acknowledged++;
  s.workers.add(servedBy.workerId);
  // What the turn was based on: the history it read plus its own message. (The agent is given
  // at most the last CONTEXT_WINDOW_MESSAGES of it, so messagesSeen stops growing there.)
  const basedOn = typeof historyLength === "number" ? historyLength + 1 : messagesSeen;
  const forgot = basedOn < expected;
  if (forgot) s.forgot++;
  item.className = `turn ${workerClass(servedBy.workerId)}`;
  Object.assign(item.dataset, {
    state: "done",
    worker: String(servedBy.workerId),
    seen: String(messagesSeen),
    expected: String(expected),
    forgot: String(forgot),
  });
  const badge = el("span", `badge worker ${workerClass(servedBy.workerId)}`);
  badge.textContent = `worker ${servedBy.workerId}`;
  badge.title = `pid ${servedBy.pid} on ${servedBy.hostname}`;
  const seen = forgot
    ? el(
        "span",
        "badge seen forgot",
        `saw ${basedOn} of ${expected} messages · forgot ${expected - basedOn} messages`,
      )
    : el("span", "badge seen ok", `saw ${basedOn} of ${expected} messages ✓`);
  meta.append(badge, seen);
  reply.textContent = `Agent: ${answer.data.reply}`;
  renderTally(app);
}

function renderTally(app) {
  const s = state[app];
  const tally = columns[app].tally;
  const workers = [...s.workers].sort((a, b) => a - b).map((id) => `worker ${id}`);
  const served = workers.length ? ` · served by ${workers.join(", ")}` : "";
  const failed = s.failed ? ` · ${s.failed} failed` : "";
  if (s.acknowledged === 0 && s.failed === 0) {
    tally.className = "tally";
    tally.textContent = `Conversation ${conversationId}: no messages yet.`;
  } else if (s.forgot > 0) {
    tally.className = "tally bad";
    tally.textContent = `✗ Forgot something in ${s.forgot} of ${s.acknowledged} replies${served}${failed}`;
  } else {
    tally.className = `tally ${s.failed ? "bad" : "good"}`;
    tally.textContent = `✓ Remembered everything in ${s.acknowledged} replies${served}${failed}`;
  }
}

/** /healthz a few times over fresh connections: which app it is, its store, which workers answer. */
async function checkHealth(app) {
  const answers = await Promise.all([1, 2, 3, 4].map(() => call(app, "/healthz")));
  const health = columns[app].health;
  const [summary, detail] = [health.querySelector("summary"), health.querySelector("p")];
  const good = answers.filter((a) => a.ok);
  if (good.length === 0) {
    const failure = answers[0];
    health.className = "health error";
    health.open = true;
    summary.textContent = `✗ ${failure.status ?? "no answer"} ${failure.code}: ${failure.message}`;
    detail.textContent = "";
    return;
  }
  // Read defensively: whatever answers on that port may not be one of the sandbox's apps.
  const { app: name = "?", scenario = "?" } = good[0].data;
  const store = good[0].data.store ?? { backend: "?", reachable: false };
  const workers = [...new Set(good.map((a) => a.data.servedBy?.workerId ?? "?"))].sort(
    (a, b) => Number(a) - Number(b),
  );
  health.className = store.reachable ? "health" : "health error";
  health.open = !store.reachable;
  const answering = `${workers.length} ${workers.length === 1 ? "worker" : "workers"} answering`;
  summary.textContent = store.reachable
    ? `Connected: ${answering}`
    : `✗ Its store does not answer (${answering})`;
  // The technical line, for whoever opens it.
  detail.textContent =
    `/healthz: app ${name}, scenario ${scenario}, store ${store.backend}` +
    `${store.reachable ? "" : " (UNREACHABLE)"}, workers seen: ${workers.join(", ")}`;
}

const controls = ["#send", "#replay", "#new"].map((selector) => $(selector));
const status = $("#status");

/** Runs one action with the buttons disabled, so a double click cannot overlap two runs. */
async function withBusy(message, action) {
  busy++;
  for (const button of controls) button.disabled = true;
  status.textContent = message;
  try {
    await action();
  } finally {
    busy--;
    if (busy === 0) for (const button of controls) button.disabled = false;
  }
}

$("#composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#message");
  const text = input.value.trim();
  if (!text || busy) return;
  input.value = "";
  void withBusy("Sending to both apps…", async () => {
    await Promise.all(APPS.map((app) => sendTurn(app, text)));
    status.textContent = "Sent. Compare the two columns.";
  }).then(() => input.focus());
});

$("#replay").addEventListener("click", () => {
  void withBusy("Replaying the scripted conversation…", async () => {
    newConversation();
    // Each app gets the script in order (a turn waits for the previous answer); both at once.
    await Promise.all(
      APPS.map(async (app) => {
        for (const text of SCRIPT) await sendTurn(app, text);
      }),
    );
    status.textContent = `Replayed ${SCRIPT.length} turns to both apps in conversation ${conversationId}.`;
  });
});

$("#new").addEventListener("click", () => {
  newConversation();
  status.textContent = `New conversation ${conversationId}.`;
  $("#message").focus();
});

newConversation();
status.textContent = "Type a message, or replay the scripted conversation.";
try {
  await Promise.all(APPS.map(checkHealth));
} finally {
  // Tests (and curious people) can tell the first health checks are done.
  document.body.dataset.ready = "true";
}
