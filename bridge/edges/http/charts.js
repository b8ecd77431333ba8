// hub-bridge console charts: small bar and line charts drawn as inline SVG by the project
// (no library, nothing fetched). Values are numbers from the API; labels go in with textContent.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// series: [{values, cls, label, kind: "bar"|"line"}]; opts: {title, unit, start (Date), bucketSeconds}
function drawChart(series, opts) {
  const width = 360, height = 140, left = 36, right = 8, top = 22, bottom = 20;
  const plotW = width - left - right, plotH = height - top - bottom;
  const count = Math.max(1, ...series.map((s) => s.values.length));
  const stacked = series.filter((s) => s.kind === "bar");
  const totals = Array.from({ length: count }, (_, i) => stacked.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const lineMax = Math.max(0, ...series.filter((s) => s.kind === "line").flatMap((s) => s.values.filter((v) => v !== null)));
  const max = niceMax(Math.max(lineMax, ...totals));
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  svg.appendChild(svgEl("title", {}, opts.title));
  svg.appendChild(svgEl("text", { x: 0, y: 13, class: "chart-title" }, opts.title));
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotH * (1 - fraction);
    svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
    svg.appendChild(svgEl("text", { x: left - 4, y: y + 3, class: "axis", "text-anchor": "end" },
      formatNumber(max * fraction)));
  }
  const slot = plotW / count;
  const stamp = (i) => new Date(opts.start.getTime() + i * opts.bucketSeconds * 1000);
  const base = Array(count).fill(0);
  for (const s of stacked) {
    s.values.forEach((value, i) => {
      if (!value) return;
      const h = (value / max) * plotH;
      const y = top + plotH - base[i] - h;
      const rect = svgEl("rect", { x: left + i * slot + 0.5, y, width: Math.max(1, slot - 1), height: h, class: s.cls });
      rect.appendChild(svgEl("title", {}, `${shortTime(stamp(i))}: ${formatNumber(value)} ${s.label}`));
      svg.appendChild(rect);
      base[i] += h;
    });
  }
  for (const s of series.filter((x) => x.kind === "line")) {
    const points = s.values.map((v, i) => (v === null ? null : [left + (i + 0.5) * slot, top + plotH - (v / max) * plotH]));
    let path = "";
    points.forEach((p, i) => {
      if (!p) return;
      path += (i > 0 && points[i - 1] ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1);
    });
    if (path) svg.appendChild(svgEl("path", { d: path, class: s.cls }));
    points.forEach((p, i) => {
      if (!p) return;
      const dot = svgEl("circle", { cx: p[0], cy: p[1], r: 2, class: s.cls + " dot" });
      dot.appendChild(svgEl("title", {}, `${shortTime(stamp(i))}: ${formatNumber(s.values[i])} ${opts.unit} ${s.label}`));
      svg.appendChild(dot);
    });
  }
  svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: top + plotH, y2: top + plotH, class: "baseline" }));
  svg.appendChild(svgEl("text", { x: left, y: height - 5, class: "axis" }, shortTime(stamp(0))));
  svg.appendChild(svgEl("text", { x: width - right, y: height - 5, class: "axis", "text-anchor": "end" }, "now"));
  const legend = svgEl("g", { class: "legend" });
  let x = width - right;
  for (const s of [...series].reverse()) {
    legend.appendChild(svgEl("text", { x, y: 13, "text-anchor": "end", class: "axis" }, s.label));
    x -= 5.6 * s.label.length + 13;
    legend.appendChild(svgEl("rect", { x: x, y: 6, width: 8, height: 8, class: s.cls + " swatch" }));
    x -= 10;
  }
  svg.appendChild(legend);
  return svg;
}

function formatNumber(value) {
  if (value === null || value === undefined) return "";
  if (value >= 100 || Number.isInteger(value)) return String(Math.round(value));
  return value.toFixed(value >= 10 ? 1 : 2);
}

function shortTime(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

window.hubCharts = { drawChart };
