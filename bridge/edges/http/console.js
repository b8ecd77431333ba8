// hub-bridge ops console: a few pages over the JSON API, rendered with textContent only
// (never innerHTML with data): message bodies are hostile input and cannot inject markup.
"use strict";

const POLL_MS = 3000;
const STATES = ["received", "translated", "published", "delivered", "answered", "handed_over", "acked", "failed",
  "dead_lettered"];
let replayAllowed = false;
let chartWindow = "hour";
let pollTimer = null;
const lastRendered = {};

// ---- small DOM helpers ---------------------------------------------------------------------------------
function changed(name, data) {
  const text = JSON.stringify([replayAllowed, data]);
  if (lastRendered[name] === text) return false;
  lastRendered[name] = text;
  return true;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function link(href, text, className) {
  const a = el("a", text, className);
  a.href = href;
  return a;
}

function cell(content, className) {
  const td = el("td", null, className);
  if (content instanceof Node) td.appendChild(content);
  else if (content !== undefined && content !== null) td.textContent = String(content);
  return td;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.appendChild(c instanceof HTMLTableCellElement ? c : cell(c));
  return tr;
}

function emptyRow(columns, text) {
  const td = el("td", text, "empty");
  td.colSpan = columns;
  return row([td]);
}

function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren(...(rows.length ? rows : [emptyRow(columns, emptyText)]));
}

function stateCell(state) {
  return cell(state ? state.replace("_", " ") : "", "state state-" + state);
}

// ---- times: local, 24 h, readable -----------------------------------------------------------------------
const DATE_TIME = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString() ? TIME.format(date) : DATE_TIME.format(date);
}

function whenCell(iso) {
  const td = cell(when(iso), "time");
  if (iso) td.title = String(iso);
  return td;
}

function duration(ms) {
  if (!Number.isFinite(ms)) return "";
  const sign = ms < 0 ? "−" : "";
  ms = Math.abs(ms);
  if (ms < 1000) return sign + Math.round(ms) + " ms";
  if (ms < 60000) return sign + (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  if (ms < 3600000) return sign + Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
  return sign + Math.floor(ms / 3600000) + " h " + Math.round((ms % 3600000) / 60000) + " min";
}

// ---- fetching -------------------------------------------------------------------------------------------
async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  let body = null;
  try { body = await response.json(); } catch (error) { body = null; }
  if (!response.ok) {
    const error = new Error((body && body.error) || (path + ": HTTP " + response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

function updated() {
  setStatus("updated " + TIME.format(new Date()) + " · times in " + Intl.DateTimeFormat().resolvedOptions().timeZone, false);
}

// ---- message rows shared by overview, case and search ---------------------------------------------------
function messageRow(m, columns) {
  const cells = {
    id: cell(link("#/message/" + encodeURIComponent(m.id), "#" + m.id)),
    updated: whenCell(m.updated_at),
    created: whenCell(m.created_at),
    dir: cell(m.direction === "out" ? "LRM → Hub" : "Hub → LRM", "dir"),
    type: cell(m.message_type || "—", "type"),
    state: stateCell(m.state),
    case: cell(m.case_id ? link("#/case/" + encodeURIComponent(m.case_id), m.case_id, "mono") : "—"),
    distribution: cell(m.distribution_id || "—", "mono small"),
    error: cell(m.last_error || "", "error"),
  };
  const tr = row(columns.map((name) => cells[name]));
  tr.dataset.messageId = String(m.id);
  return tr;
}

// ---- overview -------------------------------------------------------------------------------------------
function renderSummary(summary) {
  replayAllowed = Boolean(summary.replay_allowed);
  document.getElementById("instance").textContent = summary.instance || "";
  const warnings = document.getElementById("warnings");
  warnings.textContent = (summary.warnings || []).map((w) => "WARNING: " + w).join(" — ");
  warnings.hidden = !(summary.warnings || []).length;
  document.getElementById("replay-controls").hidden = !replayAllowed;
  document.getElementById("replay-disabled").hidden = replayAllowed;
  const gauges = [
    ["Broker", summary.broker_connected === null ? "n/a" : (summary.broker_connected ? "connected" : "DISCONNECTED"),
      summary.broker_connected === null ? "" : (summary.broker_connected ? "good" : "bad")],
    ["Outbox depth", summary.outbox_depth],
    ["Oldest pending", duration(1000 * (summary.oldest_pending_age_seconds || 0))],
    ["Dead letters", summary.dlq_size, summary.dlq_size > 0 ? "bad" : ""],
    ["RC-REF overdue", summary.rcref_overdue, summary.rcref_overdue > 0 ? "bad" : ""],
    ["Hub messages not handed to the LRM in time", summary.inbound_overdue, summary.inbound_overdue > 0 ? "bad" : ""],
    ["Mapping tables", summary.mapping_version || "n/a"],
  ];
  document.getElementById("gauges").replaceChildren(...gauges.map(([label, value, cls]) => {
    const div = el("div");
    div.appendChild(el("dt", label));
    div.appendChild(el("dd", value, cls));
    return div;
  }));
  const rows = [];
  for (const [direction, states] of Object.entries(summary.counts || {})) {
    for (const [state, count] of Object.entries(states)) {
      rows.push(row([direction === "out" ? "LRM → Hub" : "Hub → LRM", stateCell(state), cell(count, "num")]));
    }
  }
  fill(document.querySelector("#counts tbody"), rows, 3, "No message stored yet: nothing came from the LRM or the Hub.");
}

function renderDlq(entries) {
  if (!changed("dlq", entries)) return;
  const rows = entries.map((entry) => {
    const action = cell();
    if (replayAllowed) {
      const button = el("button", "Replay");
      button.type = "button";
      button.dataset.dlqId = String(entry.id);
      button.addEventListener("click", () => replay(entry.id, button));
      action.appendChild(button);
    }
    const message = entry.message_id ? link("#/message/" + encodeURIComponent(entry.message_id), "#" + entry.id) : "#" + entry.id;
    const tr = row([cell(message), whenCell(entry.created_at), entry.direction === "out" ? "LRM → Hub" : "Hub → LRM",
      entry.source, entry.adapter || "", cell(entry.error, "error"), cell(entry.error_path || "", "mono small"),
      cell((entry.attempts || []).length, "num"), action]);
    tr.dataset.dlqId = String(entry.id);
    return tr;
  });
  fill(document.querySelector("#dlq tbody"), rows, 9, "No dead letters: every message went through.");
}

function renderMessages(messages) {
  if (!changed("messages", messages)) return;
  fill(document.querySelector("#messages tbody"),
    messages.map((m) => messageRow(m, ["id", "updated", "dir", "type", "state", "case", "distribution", "error"])),
    8, "No message yet: the LRM has sent no frame and the Hub no message since the store was created.");
}

function renderCharts(stats) {
  if (!changed("charts", stats)) return;
  const start = new Date(stats.since);
  const common = { start, bucketSeconds: stats.bucket_seconds };
  const per = stats.bucket_seconds >= 3600 ? "hour" : (stats.bucket_seconds >= 60 ? Math.round(stats.bucket_seconds / 60) + " min" : "s");
  const charts = [
    hubCharts.drawChart([
      { values: stats.out, cls: "s-out", label: "LRM → Hub", kind: "bar" },
      { values: stats.in, cls: "s-in", label: "Hub → LRM", kind: "bar" },
    ], { ...common, title: "Messages per " + per, unit: "" }),
    hubCharts.drawChart([
      { values: stats.latency_mean, cls: "s-mean", label: "mean", kind: "line" },
      { values: stats.latency_max, cls: "s-max", label: "max", kind: "line" },
    ], { ...common, title: "Frame → RC-REF (s)", unit: "s" }),
    hubCharts.drawChart([
      { values: stats.dead_letters, cls: "s-dead", label: "dead letters", kind: "bar" },
    ], { ...common, title: "Dead letters per " + per, unit: "" }),
  ];
  const box = document.getElementById("charts");
  box.replaceChildren(...charts.map((svg, i) => {
    const figure = el("figure", null, "chart-box");
    figure.dataset.chart = ["throughput", "latency", "dead-letters"][i];
    figure.appendChild(svg);
    const total = i === 0 ? stats.out.concat(stats.in).reduce((a, b) => a + b, 0)
      : i === 2 ? stats.dead_letters.reduce((a, b) => a + b, 0) : null;
    const noLatency = i === 1 && stats.latency_mean.every((v) => v === null);
    if (stats.truncated) {
      figure.appendChild(el("figcaption", "Only the newest " + stats.max_rows + " messages of the window are counted.", "empty"));
    } else if (total === 0 || noLatency) {
      figure.appendChild(el("figcaption", i === 1 ? "No RC-REF received in this window."
        : (i === 0 ? "No traffic in this window." : "No dead letter in this window."), "empty"));
    }
    return figure;
  }));
}

async function loadOverview() {
  const summary = await getJson("/api/summary");
  renderSummary(summary);
  const [dlq, messages, stats] = await Promise.all([
    getJson("/api/dlq?limit=200"), getJson("/api/search?limit=50"), getJson("/api/stats?window=" + chartWindow)]);
  renderDlq(dlq);
  renderMessages(messages.messages);
  renderCharts(stats);
}

async function replay(id, button) {
  const status = document.getElementById("replay-status");
  const token = document.getElementById("replay-token").value;
  button.disabled = true;
  try {
    const response = await fetch("/api/dlq/" + encodeURIComponent(id) + "/replay", {
      method: "POST", headers: { Authorization: "Bearer " + token, Accept: "application/json" },
    });
    const body = await response.json();
    status.textContent = response.ok ? "Dead letter " + id + " replayed." : "Replay refused: " + body.error;
    status.className = response.ok ? "good" : "bad";
  } catch (error) {
    status.textContent = "Replay failed: " + error.message;
    status.className = "bad";
  } finally {
    button.disabled = false;
    route();
  }
}

// ---- one case: its life as a timeline --------------------------------------------------------------------
const EVENT_WORDS = {
  accept: "frame accepted from the LRM", receive: "received from the Hub", translate: "translated",
  confirm: "published (broker confirm)", rcref: "RC-REF received", answer: "answer received",
  hub_error: "RS-ERROR from the Hub", fail: "failed", give_up: "gave up publishing", dead_letter: "dead-lettered",
  republish: "republished", replay: "replayed", hand_over: "handed over to the LRM", ack: "RC-REF sent to the Hub",
  publish_failed: "publish failed, retry scheduled", duplicate: "duplicate delivery ignored",
  rcref_overdue: "RC-REF overdue",
};

function renderCase(data) {
  if (!changed("case", data)) return;
  document.getElementById("case-id").textContent = data.case_id;
  const events = data.events;
  const first = events.length ? new Date(events[0].ts) : null;
  const last = events.length ? new Date(events[events.length - 1].ts) : null;
  const firstOf = (name) => events.find((e) => e.event === name);
  const since = (name) => {
    const e = firstOf(name);
    return e && first ? duration(new Date(e.ts) - first) : null;
  };
  const facts = [["Messages", data.messages.length + (data.truncated ? "+" : "")],
    ["Started", first ? when(events[0].ts) : "—"], ["Span", first ? duration(last - first) : "—"],
    ["States", [...new Set(data.messages.map((m) => m.state.replace("_", " ")))].join(", ")]];
  for (const [label, name] of [["→ published", "confirm"], ["→ RC-REF", "rcref"], ["→ answer", "answer"],
    ["→ handed to the LRM", "hand_over"]]) {
    const value = since(name);
    if (value !== null) facts.push([label, value]);
  }
  document.getElementById("case-facts").replaceChildren(...facts.map(([k, v]) => {
    const div = el("div");
    div.append(el("dt", k), el("dd", v));
    return div;
  }));
  const types = Object.fromEntries(data.messages.map((m) => [m.id, m.message_type]));
  const notesOf = {};
  for (const e of events) {
    if (e.event !== "mapping_notes") continue;
    try {
      const notes = JSON.parse(e.detail);
      const fallbacks = (notes.mapped || []).filter((m) => m.warning).length;
      notesOf[e.message_id] = (notes.mapped || []).length + " code(s) mapped" + (fallbacks ? ", " + fallbacks + " fallback(s)" : "") +
        ((notes.dropped || []).length ? ", " + notes.dropped.length + " drop(s)" : "") +
        ((notes.warnings || []).length ? ", " + notes.warnings.length + " warning(s)" : "");
    } catch (error) { /* notes are informative only */ }
  }
  let previous = null;
  document.getElementById("timeline").replaceChildren(...events.filter((e) => e.event !== "mapping_notes").map((e) => {
    const li = el("li", null, "tl tl-" + e.direction + " ev-" + e.event);
    const at = new Date(e.ts);
    const time = el("time", when(e.ts), "tl-time");
    time.dateTime = e.ts;
    const delta = el("span", previous ? "+" + duration(at - previous) : "start", "tl-delta");
    previous = at;
    const head = el("div", null, "tl-head");
    head.append(time, delta);
    const what = el("div", null, "tl-what");
    what.append(el("strong", EVENT_WORDS[e.event] || e.event.replace(/_/g, " ")), " ",
      link("#/message/" + encodeURIComponent(e.message_id), (types[e.message_id] || "message") + " #" + e.message_id),
      el("span", e.direction === "out" ? " LRM → Hub" : " Hub → LRM", "dir"));
    li.append(head, what);
    const detail = e.event === "translate" && notesOf[e.message_id] ? e.detail + " · " + notesOf[e.message_id] : e.detail;
    if (detail) li.appendChild(el("div", detail, "tl-detail"));
    return li;
  }));
  fill(document.querySelector("#case-messages tbody"),
    data.messages.map((m) => messageRow(m, ["id", "created", "dir", "type", "state", "distribution", "error"])),
    7, "No message.");
}

async function loadCase(caseId) {
  renderCase(await getJson("/api/cases/" + encodeURIComponent(caseId)));
}

// ---- one message: legacy and Hub side by side ------------------------------------------------------------
function markedText(pre, text, marks) {
  // marks: [{needle, cls, title}] — split the text into text nodes and <mark>s; never parse it as HTML
  const found = [];
  for (const mark of marks) {
    if (!mark.needle || mark.needle.length < 2) continue;
    let index = text.indexOf(mark.needle);
    while (index !== -1 && found.length < 500) {
      const end = index + mark.needle.length;
      const before = index === 0 ? "" : text[index - 1];
      const after = end >= text.length ? "" : text[end];
      if (!/[A-Za-z0-9.]/.test(before) && !/[A-Za-z0-9]/.test(after)) found.push({ start: index, end, mark });
      index = text.indexOf(mark.needle, end);
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const nodes = [];
  let at = 0;
  for (const item of found) {
    if (item.start < at) continue;
    nodes.push(document.createTextNode(text.slice(at, item.start)));
    const m = el("mark", text.slice(item.start, item.end), item.mark.cls);
    m.title = item.mark.title;
    nodes.push(m);
    at = item.end;
  }
  nodes.push(document.createTextNode(text.slice(at)));
  pre.replaceChildren(...nodes);
  return found.length;
}

function notesTable(headers, rows) {
  const table = el("table");
  const head = document.createElement("thead");
  head.appendChild(row(headers.map((h) => el("th", h))));
  const body = document.createElement("tbody");
  body.replaceChildren(...rows);
  table.append(head, body);
  return table;
}

function renderNotes(box, notes, emptyText) {
  box.replaceChildren();
  if (!notes) {
    box.appendChild(el("p", emptyText, "empty"));
    return;
  }
  const mapped = notes.mapped || [];
  if (mapped.length) {
    box.appendChild(el("h3", "Codes mapped"));
    box.appendChild(notesTable(["Table", "Direction", "Code", "", "Became", "Row or rule"], mapped.map((m) => {
      const tr = row([m.table, m.direction, cell(m.code, "mono"), "→", cell(m.to === null ? "(none)" : m.to, "mono"),
        cell(m.source, "mono small")]);
      if (m.warning) { tr.className = "fallback"; tr.title = m.warning; }
      return tr;
    })));
  }
  for (const [key, title, cls] of [["warnings", "Warnings", "fallback"], ["dropped", "Declared drops", "drop"]]) {
    const items = notes[key] || [];
    if (!items.length) continue;
    box.appendChild(el("h3", title));
    const ul = el("ul", null, "issues " + cls);
    for (const item of items) {
      const li = el("li");
      li.append(el("code", item.path || "/"), " ", item.message || "", item.code ? el("span", " [" + item.code + "]", "hint") : "");
      ul.appendChild(li);
    }
    box.appendChild(ul);
  }
  if (!mapped.length && !(notes.warnings || []).length && !(notes.dropped || []).length) {
    box.appendChild(el("p", "No code was looked up, nothing was dropped, no warning.", "empty"));
  }
}

function renderMessage(data) {
  const m = data.message;
  document.getElementById("message-id").textContent = "#" + m.id + (m.message_type ? " · " + m.message_type : "");
  const facts = [["Direction", m.direction === "out" ? "LRM → Hub" : "Hub → LRM"], ["State", m.state.replace("_", " ")],
    ["Created", when(m.created_at)], ["Updated", when(m.updated_at)], ["Profile", m.profile || "—"],
    ["Distribution id", m.distribution_id || "—"], ["Attempts", m.attempts]];
  const dl = document.getElementById("message-facts");
  dl.replaceChildren(...facts.map(([k, v]) => {
    const div = el("div");
    div.append(el("dt", k), el("dd", v));
    return div;
  }));
  if (m.case_id) {
    const div = el("div");
    div.append(el("dt", "Case"), el("dd"));
    div.lastChild.appendChild(link("#/case/" + encodeURIComponent(m.case_id), m.case_id, "mono"));
    dl.appendChild(div);
  }
  if (m.last_error) {
    const div = el("div", null, "wide");
    div.append(el("dt", "Last error"), el("dd", m.last_error + (m.error_path ? " at " + m.error_path : ""), "bad"));
    dl.appendChild(div);
  }
  const notes = data.notes || {};
  const legacyMarks = [], hubMarks = [];
  for (const item of notes.mapped || []) {
    const cls = item.warning ? "mark-fallback" : "mark-code";
    const title = item.table + " " + item.direction + ": " + item.code + " → " + item.to + (item.warning ? " (" + item.warning + ")" : "");
    const legacyCode = item.direction === "forward" ? item.code : item.to;
    const hubCode = item.direction === "forward" ? item.to : item.code;
    legacyMarks.push({ needle: legacyCode, cls, title });
    hubMarks.push({ needle: hubCode, cls, title });
  }
  const legacyLines = data.legacy ? data.legacy.text.split(/\r?\n/) : [];
  for (const drop of notes.dropped || []) {  // "line N": that whole line; a field path: its last name
    const path = String(drop.path || "");
    const line = /^line (\d+)$/.exec(path);
    const needle = line ? (legacyLines[Number(line[1]) - 1] || "").trim() : path.split(/[/.]/).filter(Boolean).pop();
    if (needle && /[A-Za-z]/.test(needle)) legacyMarks.unshift({ needle, cls: "mark-drop", title: "dropped: " + drop.message });
  }
  const side = (id, captionId, body, label) => {
    const pre = document.getElementById(id);
    const caption = document.getElementById(captionId);
    if (!body) {
      caption.textContent = label;
      pre.replaceChildren(el("span", m.direction === "out" ? "Not translated yet (or the translation failed: see the history)."
        : "The frame handed to the LRM is not stored: the bridge makes it again from the Hub message when needed.", "empty"));
      return;
    }
    caption.textContent = label + " · " + body.size + " bytes, " + (body.format || body.encoding) + (body.truncated ? " (cut for display)" : "");
    const marks = id === "legacy-body" ? legacyMarks : hubMarks;
    markedText(pre, body.text, marks);
    const mark = pre.querySelector("mark");
    pre.scrollTop = mark ? Math.max(0, mark.offsetTop - pre.offsetTop - 60) : 0;
  };
  side("legacy-body", "legacy-caption", data.legacy, m.direction === "out" ? "Legacy frame received" : "Legacy frame produced");
  side("hub-body", "hub-caption", data.hub, m.direction === "out" ? "Hub message sent" : "Hub message received");
  renderNotes(document.getElementById("notes"), data.notes,
    m.direction === "out" ? "No notes recorded for this message (translated before the bridge kept them, or not translated)."
      : "Notes are recorded for frames from the LRM; Hub messages are shown as received.");
  let previous = null;
  fill(document.querySelector("#events tbody"), data.events.map((e) => {
    const at = new Date(e.ts);
    const delta = previous ? "+" + duration(at - previous) : "";
    previous = at;
    return row([whenCell(e.ts), cell(delta, "num small"), EVENT_WORDS[e.event] || e.event, e.from_state || "",
      stateCell(e.to_state), cell(e.detail || "", "error")]);
  }), 6, "No history recorded.");
}

async function loadMessage(id) {
  renderMessage(await getJson("/api/messages/" + encodeURIComponent(id) + "/detail"));
}

// ---- search ----------------------------------------------------------------------------------------------
function searchParams() {
  const query = location.hash.split("?")[1] || "";
  return new URLSearchParams(query);
}

function localInputToIso(value) {
  if (!value) return "";
  const date = new Date(value);  // datetime-local is local time
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

function isoToLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

async function loadSearch() {
  const params = searchParams();
  const form = document.getElementById("search-form");
  for (const name of ["dossier", "case", "distribution_id", "state"]) form.elements[name].value = params.get(name) || "";
  form.elements.since.value = isoToLocalInput(params.get("since"));
  form.elements.until.value = isoToLocalInput(params.get("until"));
  const summary = document.getElementById("search-summary");
  const tbody = document.querySelector("#search-results tbody");
  if (![...params.keys()].length) {
    summary.textContent = "Give an LRM dossier number, a Hub case id, a distribution id, a state or a time range.";
    fill(tbody, [], 8, "No search yet.");
    return;
  }
  const data = await getJson("/api/search?" + params.toString() + "&limit=200");
  const criteria = [...params.entries()].map(([k, v]) => k + " = " + v).join(", ");
  summary.textContent = data.messages.length + (data.messages.length >= 200 ? "+ (newest 200 shown)" : "") +
    " message(s) for " + criteria + (data.case_ids.length ? " · case id searched: " + data.case_ids.join(", ") : "");
  fill(tbody, data.messages.map((m) => messageRow(m, ["id", "created", "dir", "type", "state", "case", "distribution", "error"])),
    8, "No message matches " + criteria + ".");
}

function submitSearch(event) {
  event.preventDefault();
  const form = event.target;
  const params = new URLSearchParams();
  for (const name of ["dossier", "case", "distribution_id", "state"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  for (const name of ["since", "until"]) {
    const iso = localInputToIso(form.elements[name].value);
    if (iso) params.set(name, iso);
  }
  location.hash = "#/search?" + params.toString();
}

// ---- mappings: usage, coverage, try a frame --------------------------------------------------------------
function renderMappings(data) {
  const usage = data.usage;
  fill(document.querySelector("#usage tbody"), (usage || []).map((u) => {
    const codes = Object.entries(u.codes || {}).slice(0, 8).map(([code, n]) => code + " ×" + n).join(", ");
    const tr = row([u.table, u.direction, cell(u.lookups, "num"), cell(u.fallbacks, u.fallbacks ? "num bad" : "num"),
      cell(codes, "mono small")]);
    return tr;
  }), 5, usage === null ? "Usage is counted by the running bridge; this console has no live translator."
    : "No code looked up since the bridge started: no frame or Hub message was translated yet.");
  const coverage = data.coverage || {};
  document.getElementById("coverage-version").textContent = coverage.version ? "tables " + coverage.version : "";
  const tables = coverage.tables;
  let rows;
  if (Array.isArray(tables)) {
    rows = tables.map((t) => {
      const pct = t.total ? Math.round(1000 * t.mapped / t.total) / 10 : 100;
      const bar = el("span", null, "meter");
      const fillBar = el("span", null, "meter-fill");
      fillBar.style.width = pct + "%";
      bar.appendChild(fillBar);
      const mappedCell = cell(null, "num");
      mappedCell.append(bar, " " + t.mapped + "/" + t.total + " (" + pct + "%)");
      const never = t.unmapped.slice(0, 30).join(" ") + (t.unmapped_count > 30 ? " … " + (t.unmapped_count - 30) + " more" : "");
      return row([t.table, t.direction, t.code_list, mappedCell, cell(never || "—", "mono small")]);
    });
  } else {
    // a coverage source without the per-table list: show its entries, minus the bookkeeping keys
    rows = Object.entries(coverage).filter(([key]) => !["available", "version", "tables", "reason"].includes(key))
      .map(([key, value]) => row([cell(key), cell(""), cell(""), cell(typeof value === "object" ? JSON.stringify(value) : value), cell("")]));
  }
  fill(document.querySelector("#coverage tbody"), rows, 5,
    coverage.available === false ? "No coverage: " + (coverage.reason || "no mapping tables loaded") + "."
      : "No table declares a code list to measure.");
  if (coverage.last_reload_refused) {
    document.querySelector("#coverage tbody").appendChild(
      emptyRow(5, "Last edit of the tables was refused: " + coverage.last_reload_refused.join("; ")));
  }
  const form = document.getElementById("try-form");
  form.querySelector("button").disabled = !data.try_available;
  if (!data.try_available) {
    document.getElementById("try-result").replaceChildren(
      el("p", "Trying a frame needs the running bridge (its live translator); this console has none.", "empty"));
  }
}

async function loadMappings() {
  renderMappings(await getJson("/api/mappings"));
}

async function submitTry(event) {
  event.preventDefault();
  const box = document.getElementById("try-result");
  const frame = document.getElementById("try-frame").value;
  if (!frame.trim()) {
    box.replaceChildren(el("p", "Paste a frame first.", "empty"));
    return;
  }
  box.replaceChildren(el("p", "Translating…", "hint"));
  try {
    const response = await fetch("/api/try", { method: "POST", body: JSON.stringify({ frame }),
      headers: { "Content-Type": "application/json", Accept: "application/json" } });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
    renderTry(box, data);
  } catch (error) {
    box.replaceChildren(el("p", "Cannot translate: " + error.message, "bad"));
  }
}

function renderTry(box, data) {
  box.replaceChildren();
  if (!data.ok) {
    box.appendChild(el("p", "This frame would be refused (dead-lettered): " + data.error, "bad try-refused"));
    const ul = el("ul", null, "issues drop");
    for (const issue of data.issues || []) {
      const li = el("li");
      li.append(el("code", issue.path || "/"), " " + issue.message);
      ul.appendChild(li);
    }
    box.appendChild(ul);
    return;
  }
  box.appendChild(el("p", data.payloads.length + " Hub message(s) would go out (profile " + data.profile + "):", "good try-ok"));
  const notes = { mapped: data.mapped, warnings: data.payloads.flatMap((p) => p.warnings),
    dropped: data.payloads.flatMap((p) => p.dropped) };
  const wrap = el("div", null, "side-by-side");
  for (const payload of data.payloads) {
    const figure = el("figure");
    figure.appendChild(el("figcaption", payload.name));
    const pre = el("pre", null, "body");
    markedText(pre, JSON.stringify(payload.payload, null, 2), (data.mapped || []).map((m) => ({
      needle: m.direction === "forward" ? m.to : m.code, cls: m.warning ? "mark-fallback" : "mark-code",
      title: m.table + ": " + m.code + " → " + m.to })));
    figure.appendChild(pre);
    wrap.appendChild(figure);
  }
  box.appendChild(wrap);
  for (const pre of wrap.querySelectorAll("pre")) {
    const mark = pre.querySelector("mark");
    if (mark) pre.scrollTop = Math.max(0, mark.offsetTop - pre.offsetTop - 60);
  }
  const notesBox = el("div");
  renderNotes(notesBox, notes, "");
  box.appendChild(notesBox);
}

// ---- routing -------------------------------------------------------------------------------------------
function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch (e) { return p; } });
  if (parts[0] === "message" && /^\d{1,18}$/.test(parts[1] || "")) return { page: "message", arg: parts[1], poll: false };
  if (parts[0] === "case" && parts[1]) return { page: "case", arg: parts.slice(1).join("/"), poll: true };
  if (parts[0] === "search") return { page: "search", poll: false };
  if (parts[0] === "mappings") return { page: "mappings", poll: false };
  return { page: "overview", poll: true };
}

const LOADERS = { overview: loadOverview, case: loadCase, message: loadMessage, search: loadSearch, mappings: loadMappings };

async function route() {
  const current = parseRoute();
  for (const page of document.querySelectorAll(".page")) page.hidden = page.dataset.page !== current.page;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === current.page);
  clearTimeout(pollTimer);
  try {
    if (current.page !== "overview" && !document.getElementById("instance").textContent) {
      renderSummary(await getJson("/api/summary"));  // the instance name in the header on every page
    }
    await LOADERS[current.page](current.arg);
    updated();
  } catch (error) {
    if (error.status === 404 || error.status === 400) {
      const page = document.querySelector(`.page[data-page="${current.page}"] section`);
      const note = el("p", error.message, "bad not-found");
      page.querySelectorAll(".not-found").forEach((n) => n.remove());
      page.insertBefore(note, page.children[1] || null);
      setStatus(error.message, true);
    } else {
      setStatus("cannot reach the bridge: " + error.message, true);
    }
  }
  if (current.poll) pollTimer = setTimeout(route, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("#search-form select[name=state]");
  for (const state of STATES) select.appendChild(el("option", state.replace("_", " "))).value = state;
  document.getElementById("search-form").addEventListener("submit", submitSearch);
  document.getElementById("try-form").addEventListener("submit", submitTry);
  for (const button of document.querySelectorAll("[data-window]")) {
    button.addEventListener("click", () => {
      chartWindow = button.dataset.window;
      for (const b of document.querySelectorAll("[data-window]")) b.classList.toggle("active", b === button);
      route();
    });
  }
  window.addEventListener("hashchange", () => {
    for (const note of document.querySelectorAll(".not-found")) note.remove();
    Object.keys(lastRendered).forEach((k) => { if (k !== "dlq") delete lastRendered[k]; });
    route();
  });
  route();
});
