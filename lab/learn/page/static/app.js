// The side-by-side page. No framework and no build: plain DOM, one module (and the SSE parser
// of the eventsource-parser package, which the page server serves as it is published).
// Every request goes to this page's own server, which proxies /api/<app>/... to the app on a
// fresh connection per request (so the cluster spreads them over workers) and signs the token.
import { EventSourceParserStream } from "/vendor/eventsource-parser/stream.js";

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
/** With "Drop connection" on, each reply's connection is cut after this many words. */
// (The checkbox's label in index.html says 2.)
const DROP_AFTER_DELTAS = 2;
/** Tells the page server which worker produced a turn, so it resumes the turn elsewhere. */
const PRODUCER_HEADER = "x-web-producer-worker";

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
const dropControl = $("#drop");

/** Per app: the conversation, what the server acknowledged, and every worker seen so far. */
const state = {};
let conversationId = "";
let busy = 0;

function newConversation() {
  conversationId = `web-${randomId(4)}`;
  for (const app of APPS) {
    state[app] = {
      sent: 0,
      acknowledged: 0,
      // Replies whose stream was lost after the app took the turn (it stored the turn).
      lost: 0,
      resumed: 0,
      forgot: 0,
      failed: 0,
      workers: new Set(),
    };
    columns[app].log.replaceChildren();
    renderTally(app);
  }
}

/** A failure as the page shows it: an HTTP status (if any), a stable code, a message. */
const failure = (status, code, message) => ({ kind: "failed", status, code, message });

/** A request through the proxy; resolves with the response, or a failure when none came. */
async function open(app, path, init = {}) {
  const controller = new AbortController();
  const headers = { "x-web-session": session, ...init.headers };
  try {
    const response = await fetch(`/api/${app}${path}`, {
      ...init,
      headers,
      signal: controller.signal,
    });
    const worker = response.headers.get("x-worker-id") ?? undefined;
    return { kind: "response", response, worker, drop: () => controller.abort() };
  } catch (error) {
    return failure(undefined, "no_answer", `the page server did not answer (${error})`);
  }
}

/** The app's `{ error: { code, message } }` (or whatever else came) as a failure. */
async function failureOf(response) {
  const data = await response.json().catch(() => ({}));
  const error = data?.error ?? {};
  return failure(
    response.status,
    error.code ?? "unexpected_answer",
    error.message ?? `HTTP ${response.status}`,
  );
}

/** Calls the app through the proxy; always resolves, with the answer or a readable failure. */
async function call(app, path) {
  const answer = await open(app, path);
  if (answer.kind === "failed") return { ok: false, ...answer };
  const { response } = answer;
  if (!response.ok) return { ok: false, ...(await failureOf(response)) };
  return { ok: true, data: await response.json().catch(() => ({})) };
}

const isEventStream = (response) =>
  (response.headers.get("content-type") ?? "").startsWith("text/event-stream");

/** A turn's answer (done's data, or a JSON 200), checked against the HTTP contract. */
function doneOf(data) {
  if (typeof data?.messagesSeen === "number" && data.servedBy) return { kind: "done", data };
  return failure(200, "unexpected_answer", "the answer is not a turn of the HTTP contract");
}

/**
 * Reads one connection's events as they come (parsed by eventsource-parser): each delta's text
 * is added to `progress` and shown. Returns the turn's end (done, or its error event), or
 * undefined when the connection ended first: it broke, or it was dropped after `dropAfter`
 * deltas on purpose.
 */
async function readEvents(connection, progress, onText, dropAfter = Number.POSITIVE_INFINITY) {
  const reader = connection.response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  try {
    for (;;) {
      const { value: event, done } = await reader.read();
      if (done) return undefined;
      if (/^\d+$/.test(event.id ?? "")) progress.lastId = Number(event.id);
      const data = JSON.parse(event.data);
      if (event.event === "done") return doneOf(data);
      if (event.event === "error") {
        return failure(200, data?.error?.code ?? "stream_error", data?.error?.message ?? "");
      }
      progress.text += data.text;
      progress.deltas++;
      onText(progress.text, progress.deltas);
      if (progress.deltas === dropAfter) {
        connection.drop();
        return undefined;
      }
    }
  } catch (error) {
    if (error instanceof SyntaxError) return failure(200, "unexpected_answer", error.message);
    return undefined; // The connection broke mid-stream.
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * One turn, streamed: `POST .../turns` with `Accept: text/event-stream`, its words shown as they
 * come. With "Drop connection" on, the page cuts the connection after DROP_AFTER_DELTAS words.
 * Whenever the stream ends before the turn does (cut on purpose or not), the page resumes it
 * once: `GET .../turns/:turnId/stream` with `Last-Event-ID`, which the page server sends to a
 * worker other than the producer. The fixed app's workers all read the stream from Redis; the
 * broken app's stream is in the producer's memory only.
 */
async function streamTurn(app, text, view) {
  const turnId = `t-${randomId(8)}`;
  const path = `/conversations/${conversationId}/turns`;
  const first = await open(app, path, {
    method: "POST",
    headers: { accept: "text/event-stream", "content-type": "application/json" },
    body: JSON.stringify({ text, turnId }),
  });
  if (first.kind === "failed") return first;
  if (!first.response.ok) return failureOf(first.response);
  // An app without streams answers JSON whatever the page accepts.
  if (!isEventStream(first.response)) return doneOf(await first.response.json().catch(() => ({})));
  const producer = first.worker;
  showWorker(view, producer);
  const progress = { text: "", lastId: 0, deltas: 0 };
  const onText = (shown, deltas) => showText(view, shown, deltas);
  const dropAfter = dropControl.checked ? DROP_AFTER_DELTAS : undefined;
  const ended = await readEvents(first, progress, onText, dropAfter);
  if (ended) return { ...ended, progress };

  showDropped(view, progress.deltas, progress.deltas === dropAfter);
  const headers = { "last-event-id": String(progress.lastId) };
  if (producer !== undefined) headers[PRODUCER_HEADER] = producer;
  const resume = await open(app, `${path}/${turnId}/stream`, { headers });
  const lost = { kind: "lost", producer, progress };
  if (resume.kind === "failed") return { ...lost, resumedBy: undefined, why: resume };
  const resumedBy = resume.worker;
  if (!resume.response.ok) return { ...lost, resumedBy, why: await failureOf(resume.response) };
  showResumed(view, resumedBy, resume.response.headers.get("x-web-skipped"), producer);
  const rest = await readEvents(resume, progress, onText);
  const broke = failure(200, "stream_broken", "the resumed stream broke too");
  return rest ? { ...rest, progress, resumedBy } : { ...lost, resumedBy, why: broke };
}

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const workerClass = (id) => `w${((id % WORKER_COLOURS) + WORKER_COLOURS) % WORKER_COLOURS}`;

/** A turn's list item: the message at once, then the worker, the words, what it remembered. */
function addTurnView(app, turn, text) {
  const item = el("li", "turn pending");
  item.dataset.turn = String(turn);
  item.dataset.state = "pending";
  // Screen readers wait for the whole reply instead of announcing every word.
  item.setAttribute("aria-busy", "true");
  const you = el("p", "you");
  you.append(el("span", "who", `#${turn} You:`), text);
  const meta = el("p", "meta");
  const reply = el("p", "reply waiting", "waiting for the agent…");
  item.append(you, meta, reply);
  columns[app].log.append(item);
  item.scrollIntoView({ block: "nearest" });
  return { item, meta, reply, workerBadge: undefined };
}

/** The worker producing the reply, as soon as its response starts. */
function showWorker(view, workerId) {
  if (workerId === undefined) return;
  const id = Number(workerId);
  view.item.className = `turn pending ${workerClass(id)}`;
  view.item.dataset.producer = String(id);
  view.workerBadge = el("span", `badge worker ${workerClass(id)}`, `worker ${id}`);
  view.meta.append(view.workerBadge);
}

function showText(view, text, deltas) {
  view.reply.className = "reply streaming";
  view.reply.textContent = `Agent: ${text}`;
  view.item.dataset.deltas = String(deltas);
}

function showDropped(view, deltas, onPurpose) {
  view.item.dataset.droppedAfter = String(deltas);
  const what = onPurpose ? `✂ connection dropped after ${deltas} words` : "✂ connection broke";
  view.meta.append(el("span", "badge note", what));
}

/** Who sent the rest. `skipped`: connections the page server dropped (they reached the producer). */
function showResumed(view, workerId, skipped, producer) {
  view.item.dataset.resumedBy = String(workerId);
  const id = Number(workerId);
  const badge = el("span", `badge worker ${workerClass(id)}`, `resumed on worker ${workerId}`);
  const skips =
    Number(skipped) > 0 ? ` (${skipped} reached worker ${producer} first: dropped)` : "";
  badge.title = `the rest of the reply, after Last-Event-ID, on a fresh connection${skips}`;
  view.meta.append(badge);
}

/** One turn to one app: shows the message at once, then who answered and what it remembered. */
async function sendTurn(app, text) {
  const s = state[app];
  const turn = ++s.sent;
  // What a correct agent sees on this turn: every earlier turn the app took (two messages
  // each: a lost reply stream does not unstore its turn), plus this one.
  const expected = 2 * (s.acknowledged + s.lost) + 1;
  const view = addTurnView(app, turn, text);
  const outcome = await streamTurn(app, text, view);
  view.item.removeAttribute("aria-busy");
  if (outcome.kind === "done") showDone(app, view, outcome, expected);
  else if (outcome.kind === "lost") showLost(app, view, outcome, expected);
  else showFailed(app, view, outcome);
  renderTally(app);
}

function showFailed(app, view, answer) {
  state[app].failed++;
  view.item.className = "turn failed";
  view.item.dataset.state = "failed";
  view.reply.className = "reply error-text";
  view.reply.textContent = `✗ ${answer.status ?? "no answer"} ${answer.code}: ${answer.message}`;
}

/** The stream could not be resumed: the words so far stay, and why the rest is gone. */
function showLost(app, view, { producer, resumedBy, why }, expected) {
  const s = state[app];
  s.lost++;
  if (producer !== undefined) s.workers.add(Number(producer));
  view.item.className = `turn lost ${producer === undefined ? "" : workerClass(Number(producer))}`;
  Object.assign(view.item.dataset, { state: "lost", expected: String(expected) });
  if (producer !== undefined) view.item.dataset.worker = String(producer);
  if (resumedBy !== undefined) view.item.dataset.resumedBy = String(resumedBy);
  view.reply.className = "reply cut";
  const reason =
    why.status === 404 && resumedBy !== undefined
      ? `worker ${resumedBy} has no stream for it (404 ${why.code}); only worker ${producer}, ` +
        "which produced it, had it, in its memory"
      : `resuming it failed (${why.status ?? "no answer"} ${why.code}: ${why.message})`;
  const lost = el("p", "lost error-text", `✗ The rest of this reply is lost: ${reason}.`);
  lost.dataset.role = "lost";
  view.item.append(lost);
}

function showDone(app, view, { data, progress, resumedBy }, expected) {
  const s = state[app];
  const { messagesSeen, historyLength, servedBy } = data;
  s.acknowledged++;
  if (resumedBy !== undefined) s.resumed++;
  s.workers.add(servedBy.workerId);
  // What the turn was based on: the history it read plus its own message. (The agent is given
  // at most the last CONTEXT_WINDOW_MESSAGES of it, so messagesSeen stops growing there.)
  const basedOn = typeof historyLength === "number" ? historyLength + 1 : messagesSeen;
  const forgot = basedOn < expected;
  if (forgot) s.forgot++;
  if (!view.workerBadge) showWorker(view, servedBy.workerId); // A JSON answer: no early header.
  view.item.className = `turn ${workerClass(servedBy.workerId)}`;
  Object.assign(view.item.dataset, {
    state: "done",
    worker: String(servedBy.workerId),
    seen: String(messagesSeen),
    expected: String(expected),
    forgot: String(forgot),
  });
  view.workerBadge.title = `pid ${servedBy.pid} on ${servedBy.hostname}`;
  const seen = forgot
    ? el(
        "span",
        "badge seen forgot",
        `saw ${basedOn} of ${expected} messages · forgot ${expected - basedOn} messages`,
      )
    : el("span", "badge seen ok", `saw ${basedOn} of ${expected} messages ✓`);
  view.meta.append(seen);
  showReply(view, data.reply, progress);
}

/** The reply as streamed; flagged if its words do not join up to the reply the app stored. */
function showReply(view, reply, progress) {
  view.reply.className = "reply";
  if (!progress?.deltas) {
    view.reply.textContent = `Agent: ${reply}`;
    return;
  }
  view.reply.textContent = `Agent: ${progress.text}`;
  const intact = progress.text === reply;
  view.item.dataset.intact = String(intact);
  if (!intact) {
    view.item.append(el("p", "error-text", "✗ The streamed words differ from the stored reply."));
  }
}

function renderTally(app) {
  const s = state[app];
  const tally = columns[app].tally;
  const workers = [...s.workers].sort((a, b) => a - b).map((id) => `worker ${id}`);
  const served = workers.length ? ` · served by ${workers.join(", ")}` : "";
  const failed = s.failed ? ` · ${s.failed} failed` : "";
  const problems = [];
  if (s.forgot > 0) problems.push(`Forgot something in ${s.forgot} of ${s.acknowledged} replies`);
  if (s.lost > 0) {
    problems.push(`Lost the rest of ${s.lost} of ${s.acknowledged + s.lost} replies mid-stream`);
  }
  if (s.acknowledged === 0 && s.lost === 0 && s.failed === 0) {
    tally.className = "tally";
    tally.textContent = `Conversation ${conversationId}: no messages yet.`;
  } else if (problems.length > 0) {
    tally.className = "tally bad";
    tally.textContent = `✗ ${problems.join(" · ")}${served}${failed}`;
  } else {
    const resumed = s.resumed ? ` (${s.resumed} resumed on another worker)` : "";
    tally.className = `tally ${s.failed ? "bad" : "good"}`;
    tally.textContent = `✓ Remembered everything in ${s.acknowledged} replies${resumed}${served}${failed}`;
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
  const dropping = dropControl.checked
    ? ` Dropping each reply's connection after ${DROP_AFTER_DELTAS} words.`
    : "";
  status.textContent = `${message}${dropping}`;
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
