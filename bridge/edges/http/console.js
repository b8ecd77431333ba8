// hub-bridge ops console: polls the JSON API and renders it with textContent only
// (never innerHTML with data), so message content cannot inject markup.
"use strict";

const POLL_MS = 3000;
let replayAllowed = false;
let selectedMessage = null;
const lastRendered = {};

// Re-render a table only when its data changed, so rows (and their buttons) stay put between polls.
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

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : el("td", cell));
  return tr;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

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
    ["Oldest pending (s)", Math.round(summary.oldest_pending_age_seconds)],
    ["Dead letters", summary.dlq_size, summary.dlq_size > 0 ? "bad" : ""],
    ["RC-REF overdue", summary.rcref_overdue, summary.rcref_overdue > 0 ? "bad" : ""],
    ["Hub messages not handed to the LRM in time", summary.inbound_overdue, summary.inbound_overdue > 0 ? "bad" : ""],
    ["Mapping tables", summary.mapping_version || "n/a"],
  ];
  const dl = document.getElementById("gauges");
  dl.replaceChildren(...gauges.map(([label, value, cls]) => {
    const div = el("div");
    div.appendChild(el("dt", label));
    div.appendChild(el("dd", value, cls));
    return div;
  }));
  const rows = [];
  for (const [direction, states] of Object.entries(summary.counts || {})) {
    for (const [state, count] of Object.entries(states)) {
      rows.push(row([direction, el("td", state, "state-" + state), count]));
    }
  }
  fill(document.querySelector("#counts tbody"), rows);
}

function renderDlq(entries) {
  if (!changed("dlq", entries)) return;
  const rows = entries.map((entry) => {
    const action = el("td");
    if (replayAllowed) {
      const button = el("button", "Replay");
      button.type = "button";
      button.dataset.dlqId = String(entry.id);
      button.addEventListener("click", () => replay(entry.id, button));
      action.appendChild(button);
    }
    const tr = row([entry.id, entry.created_at, entry.direction, entry.source, entry.adapter || "",
      el("td", entry.error, "error"), entry.error_path || "", (entry.attempts || []).length, action]);
    tr.dataset.dlqId = String(entry.id);
    return tr;
  });
  if (rows.length === 0) {
    const empty = el("td", "No dead letters.");
    empty.colSpan = 9;
    rows.push(row([empty]));
  }
  fill(document.querySelector("#dlq tbody"), rows);
}

function renderMessages(messages) {
  if (!changed("messages", messages)) return;
  fill(document.querySelector("#messages tbody"), messages.map((m) => {
    const tr = row([m.id, m.updated_at, m.direction, m.adapter || "", el("td", m.state, "state-" + m.state),
      m.case_id || "", m.distribution_id || "", el("td", m.last_error || "", "error")]);
    tr.dataset.messageId = String(m.id);
    tr.addEventListener("click", () => showHistory(m.id));
    return tr;
  }));
}

function renderCoverage(coverage) {
  const rows = [];
  for (const [key, value] of Object.entries(coverage)) {
    rows.push(row([el("th", key), typeof value === "object" && value !== null ? JSON.stringify(value) : value]));
  }
  fill(document.querySelector("#coverage tbody"), rows);
}

async function showHistory(id) {
  selectedMessage = id;
  const data = await getJson("/api/messages/" + encodeURIComponent(id));
  document.getElementById("history").hidden = false;
  document.getElementById("history-id").textContent = String(id);
  fill(document.querySelector("#events tbody"), data.events.map((e) =>
    row([e.ts, e.event, e.from_state || "", el("td", e.to_state, "state-" + e.to_state), el("td", e.detail || "", "error")])));
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
    refresh();
  }
}

async function refresh() {
  try {
    const summary = await getJson("/api/summary");
    renderSummary(summary);
    const [dlq, messages, coverage] = await Promise.all([
      getJson("/api/dlq?limit=200"), getJson("/api/messages?limit=50"), getJson("/api/coverage")]);
    renderDlq(dlq);
    renderMessages(messages);
    renderCoverage(coverage);
    if (selectedMessage !== null) await showHistory(selectedMessage);
    setStatus("updated " + new Date().toLocaleTimeString(), false);
  } catch (error) {
    setStatus("cannot reach the bridge: " + error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  refresh();
  setInterval(refresh, POLL_MS);
});
