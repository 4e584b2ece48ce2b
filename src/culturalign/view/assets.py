"""The viewer page's stylesheet and script, kept as Python strings so the wheel carries
them without package-data rules and the page's CSP hash is taken over exactly this text.

The script's rules: every piece of data reaches the page through ``textContent`` (or an
attribute set with ``setAttribute`` on a plain value, never ``href`` from data except a
``#`` fragment the script encodes itself); only one page of groups is in the DOM at a
time, so 10,000 items cost one JSON.parse and a filter pass, not 10,000 cards.
"""

STYLE = """
:root { --fg:#1d2330; --muted:#5d6675; --line:#d8dde6; --bg:#f6f7f9; --ok:#1f7a3d; --bad:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif;
  color:var(--fg); background:var(--bg); }
header { padding:12px 20px 4px; }
h1 { font-size:20px; margin:0; }
#counts { color:var(--muted); margin:4px 0 0; }
#filters { display:flex; flex-wrap:wrap; gap:8px 14px; align-items:center; padding:10px 20px;
  border-bottom:1px solid var(--line); background:#fff; position:sticky; top:0; z-index:1; }
#filters label { color:var(--muted); font-size:13px; display:flex; gap:4px; align-items:center; }
#filters .grow { flex:1 1 220px; }
#filters .grow input { flex:1; }
#filters input[type=number] { width:64px; }
select, input, button { font:inherit; font-size:13px; }
.pager { display:flex; gap:8px; align-items:center; padding:8px 20px; color:var(--muted); font-size:13px; }
main { padding:0 20px 20px; }
.group { background:#fff; border:1px solid var(--line); border-radius:6px; margin:12px 0; padding:12px 14px; }
.meta { color:var(--muted); font-size:12px; display:flex; flex-wrap:wrap; gap:4px 10px; }
.meta a { color:inherit; }
.question { font-size:16px; font-weight:600; margin:6px 0; white-space:pre-wrap; overflow-wrap:anywhere; }
.reference { white-space:pre-wrap; overflow-wrap:anywhere; background:#f0f4ec; border-left:3px solid var(--ok);
  padding:6px 10px; margin:6px 0; }
.lbl { display:block; color:var(--muted); font-size:12px; font-weight:600; text-transform:uppercase; letter-spacing:.03em; }
.options { margin:4px 0 8px; padding-left:22px; font-size:14px; }
.options .gold { font-weight:600; color:var(--ok); }
.answers { display:flex; flex-wrap:wrap; gap:10px; }
.answer { flex:1 1 300px; min-width:0; border:1px solid var(--line); border-radius:5px; padding:8px 10px; }
.answer.dim { opacity:.45; }
.answer > header { display:flex; justify-content:space-between; gap:8px; padding:0; font-weight:600;
  font-size:13px; overflow-wrap:anywhere; }
.badge { border-radius:10px; padding:0 8px; font-size:12px; white-space:nowrap; background:#e8ebf0; }
.badge.ok { background:#dff1e4; color:var(--ok); }
.badge.bad { background:#fbe3e1; color:var(--bad); }
.answer-text, .judge-reply { white-space:pre-wrap; overflow-wrap:anywhere; margin:6px 0; }
.judge-reply { font:12.5px/1.4 ui-monospace, monospace; background:var(--bg); padding:6px; }
.reason { color:var(--bad); font-size:13px; margin:4px 0; overflow-wrap:anywhere; }
details { font-size:13px; margin-top:4px; }
summary { cursor:pointer; color:var(--muted); }
table.attempts, table.details { border-collapse:collapse; font-size:12px; margin:4px 0; width:100%; }
table.attempts td, table.attempts th, table.details td { border-top:1px solid var(--line); padding:2px 4px;
  text-align:left; vertical-align:top; overflow-wrap:anywhere; }
.empty { color:var(--muted); padding:30px 0; text-align:center; }
"""

SCRIPT = r"""
"use strict";
(function () {
  const t0 = performance.now();
  const DATA = JSON.parse(document.getElementById("view-data").textContent);
  const runs = DATA.runs, groups = DATA.groups, PAGE = DATA.pageSize || 50;
  const $ = (id) => document.getElementById(id);
  const KEYS = ["run", "kind", "culture", "category", "scope", "min", "max", "invalid", "q", "item", "page"];
  const SELECTS = { run: "f-run", kind: "f-kind", culture: "f-culture", category: "f-category", scope: "f-scope" };
  let state = {};
  let firstDone = false;
  const ANSWERS = groups.reduce((n, g) => n + g.answers.length, 0);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function decode(s) {
    try { return decodeURIComponent(s.replace(/\+/g, " ")); } catch (err) { return s; }
  }
  function readHash() {
    const out = {};
    for (const part of location.hash.replace(/^#/, "").split("&")) {
      if (!part) continue;
      const i = part.indexOf("=");
      out[decode(i < 0 ? part : part.slice(0, i))] = i < 0 ? "1" : decode(part.slice(i + 1));
    }
    return out;
  }
  function fragment(s) {
    return KEYS.filter((k) => s[k] !== undefined && s[k] !== "")
      .map((k) => encodeURIComponent(k) + "=" + encodeURIComponent(s[k])).join("&");
  }
  function writeHash() {
    const h = fragment(state);
    if (location.hash.replace(/^#/, "") === h) return;
    try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); }
    catch (err) { location.hash = h; }
  }

  function fillSelect(key, values, labels) {
    const sel = $(SELECTS[key]);
    for (const v of values) {
      const o = el("option", null, labels ? labels(v) : v);
      o.value = v;
      sel.appendChild(o);
    }
  }
  function distinct(get) {
    const s = new Set();
    for (const g of groups) { const v = get(g); if (v) s.add(v); }
    return Array.from(s).sort();
  }
  fillSelect("run", Array.from(new Set(runs.map((r) => r.label))));
  fillSelect("kind", distinct((g) => g.kind));
  fillSelect("culture", distinct((g) => g.culture));
  fillSelect("category", distinct((g) => g.category));
  fillSelect("scope", distinct((g) => g.scope));
  for (const k of ["scope", "category"]) {  // a filter no record has is left out
    if ($(SELECTS[k]).options.length === 1) $(SELECTS[k]).parentElement.hidden = true;
  }

  function toControls() {
    for (const k in SELECTS) {
      const sel = $(SELECTS[k]), v = state[k] || "";
      if (v && !Array.from(sel.options).some((o) => o.value === v)) {  // a link to nothing shows nothing
        const o = el("option", null, v); o.value = v; sel.appendChild(o);
      }
      sel.value = v;
    }
    $("f-min").value = state.min || "";
    $("f-max").value = state.max || "";
    $("f-invalid").checked = state.invalid === "1";
    $("f-q").value = state.q || "";
  }
  function fromControls() {
    const s = {};
    for (const k in SELECTS) s[k] = $(SELECTS[k]).value;
    s.min = $("f-min").value; s.max = $("f-max").value;
    s.invalid = $("f-invalid").checked ? "1" : "";
    s.q = $("f-q").value.trim();
    s.item = state.item || "";
    return s;
  }

  function runSet(v) {
    if (!v) return null;
    const s = new Set();
    runs.forEach((r, i) => {
      if (r.label === v || r.dir === v || r.model === v || r.dir.endsWith("/" + v)) s.add(i);
    });
    return s;
  }
  function hay(g) {
    if (g._hay === undefined) {
      const parts = [g.item_id, g.question, g.reference || "", (g.options || []).join(" ")];
      for (const a of g.answers) parts.push(a.text || "", a.judge_reply || "", a.reason || "", a.error || "");
      g._hay = parts.join("\n").toLowerCase();
    }
    return g._hay;
  }
  function num(v) { return v === "" || v === undefined || isNaN(Number(v)) ? null : Number(v); }

  function answerPasses(a, f) {
    if (f.invalid && a.status === "ok") return false;
    if (f.min !== null || f.max !== null) {
      if (typeof a.rating !== "number") return false;
      if (f.min !== null && a.rating < f.min) return false;
      if (f.max !== null && a.rating > f.max) return false;
    }
    return true;
  }
  function matching() {
    const f = {
      runs: runSet(state.run), min: num(state.min), max: num(state.max), invalid: state.invalid === "1",
      words: (state.q || "").toLowerCase().split(/\s+/).filter(Boolean),
    };
    const out = [];
    for (const g of groups) {
      if (state.kind && g.kind !== state.kind) continue;
      if (state.culture && g.culture !== state.culture) continue;
      if (state.category && g.category !== state.category) continue;
      if (state.scope && g.scope !== state.scope) continue;
      if (state.item && g.item_id !== state.item) continue;
      const shown = f.runs ? g.answers.filter((a) => f.runs.has(a.run)) : g.answers;
      if (!shown.some((a) => answerPasses(a, f))) continue;
      if (f.words.length) { const h = hay(g); if (!f.words.every((w) => h.includes(w))) continue; }
      out.push([g, shown, f]);
    }
    return out;
  }

  function badge(a) {
    const run = runs[a.run];
    if (typeof a.rating === "number") {
      const hi = run.scale ? run.scale[1] : null;
      const good = run.scale ? a.rating >= (run.scale[0] + run.scale[1]) / 2 : true;
      return el("span", "badge " + (good ? "ok" : "bad"), hi ? a.rating + " / " + hi : a.rating);
    }
    if (a.status !== "ok") return el("span", "badge bad", a.status);
    if (a.score) return el("span", "badge", a.score.name + " " + Number(a.score.value).toFixed(3));
    if (a.correct === true) return el("span", "badge ok", "correct");
    if (a.correct === false) return el("span", "badge bad", "wrong");
    return el("span", "badge", "scored");
  }
  function attemptsTable(list) {
    const t = el("table", "attempts");
    const head = el("tr");
    for (const h of ["sample", "attempt", "parse", "rating", "reply or error"]) head.appendChild(el("th", null, h));
    t.appendChild(head);
    for (const x of list) {
      const tr = el("tr");
      tr.appendChild(el("td", null, x.sample));
      tr.appendChild(el("td", null, x.attempt));
      tr.appendChild(el("td", null, x.parse_status + (x.parse_detail ? ": " + x.parse_detail : "")));
      tr.appendChild(el("td", null, x.rating === null || x.rating === undefined ? "–" : x.rating));
      tr.appendChild(el("td", "judge-reply", x.error ? "error: " + x.error : x.reply));
      t.appendChild(tr);
    }
    return t;
  }
  function detailsTable(obj) {
    const t = el("table", "details");
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (v === null || v === undefined) continue;
      const tr = el("tr");
      tr.appendChild(el("td", null, k));
      tr.appendChild(el("td", null, typeof v === "object" ? JSON.stringify(v) : v));
      t.appendChild(tr);
    }
    return t;
  }
  function answerCard(a, f) {
    const run = runs[a.run];
    const card = el("section", "answer" + (answerPasses(a, f) ? "" : " dim"));
    card.dataset.run = run.label;
    card.dataset.status = a.status;
    const head = el("header");
    const name = el("span", "run-label", run.label);
    name.title = [run.model, run.dir].filter(Boolean).join("\n");
    head.appendChild(name);
    head.appendChild(badge(a));
    card.appendChild(head);
    card.appendChild(el("div", "answer-text", a.text === null || a.text === undefined ? "(no answer)" : a.text));
    if (a.reason) card.appendChild(el("p", "reason", a.reason));
    if (a.error && !(a.reason || "").includes(a.error)) card.appendChild(el("p", "reason", "error: " + a.error));
    if (a.judge_reply || (a.attempts && a.attempts.length)) {
      const d = el("details", "judge");
      const n = a.attempts ? a.attempts.length : 0;
      d.appendChild(el("summary", null, "judge's reply" + (run.judge ? " (" + run.judge + ")" : "") + ", " + n + " attempt" + (n === 1 ? "" : "s")));
      if (a.judge_reply) d.appendChild(el("div", "judge-reply", a.judge_reply));
      if (n > 1) d.appendChild(attemptsTable(a.attempts));  // one attempt is the reply above
      card.appendChild(d);
    }
    if (a.details && Object.keys(a.details).length) {
      const d = el("details", "more");
      d.appendChild(el("summary", null, "details"));
      d.appendChild(detailsTable(a.details));
      card.appendChild(d);
    }
    return card;
  }
  function groupCard(g, shown, f) {
    const art = el("article", "group");
    art.dataset.item = g.item_id;
    const meta = el("div", "meta");
    for (const v of [g.kind, g.culture, g.category, g.scope, [g.mode, g.lang].filter(Boolean).join(" · ")]) {
      if (v) meta.appendChild(el("span", null, v));
    }
    const link = el("a", null, g.item_id);
    link.setAttribute("href", "#" + fragment({ kind: g.kind, item: g.item_id }));
    meta.appendChild(link);
    art.appendChild(meta);
    art.appendChild(el("div", "question", g.question));
    if (g.options) {
      const ol = el("ol", "options");
      g.options.forEach((o) => ol.appendChild(el("li", o === g.reference ? "gold" : null, o)));
      art.appendChild(ol);
    }
    if (g.reference) {
      const ref = el("div", "reference");
      ref.appendChild(el("span", "lbl", g.options ? "right answer" : "reference"));
      ref.appendChild(document.createTextNode(g.reference));
      art.appendChild(ref);
    }
    const row = el("div", "answers");
    for (const a of shown) row.appendChild(answerCard(a, f));
    art.appendChild(row);
    return art;
  }
  function pager(nav, pages) {
    nav.replaceChildren();
    const p = Number(state.page) || 1;
    const prev = el("button", null, "← previous"); prev.type = "button"; prev.disabled = p <= 1;
    const next = el("button", null, "next →"); next.type = "button"; next.disabled = p >= pages;
    prev.addEventListener("click", () => go(p - 1));
    next.addEventListener("click", () => go(p + 1));
    nav.appendChild(prev);
    nav.appendChild(el("span", "page-of", "page " + p + " of " + pages));
    nav.appendChild(next);
  }
  function go(p) { state.page = p > 1 ? String(p) : ""; writeHash(); render(); window.scrollTo(0, 0); }

  function render() {
    const start = performance.now();
    const hits = matching();
    const pages = Math.max(1, Math.ceil(hits.length / PAGE));
    let p = Math.min(Math.max(1, Number(state.page) || 1), pages);
    state.page = p > 1 ? String(p) : "";
    const main = $("groups");
    main.replaceChildren();
    for (const [g, shown, f] of hits.slice((p - 1) * PAGE, p * PAGE)) main.appendChild(groupCard(g, shown, f));
    if (!hits.length) main.appendChild(el("p", "empty", "No item matches these filters."));
    $("counts").textContent = hits.length + " of " + groups.length + " items match (" + ANSWERS +
      " answers from " + runs.length + " run" + (runs.length === 1 ? "" : "s") + ")";
    pager($("pager-top"), pages);
    pager($("pager-bottom"), pages);
    const now = performance.now();
    window.__viewRender = { ms: now - start, matched: hits.length, drawn: main.querySelectorAll(".group").length };
    if (!firstDone) {
      firstDone = true;
      const first = { ms: now, parse_and_draw_ms: now - t0 };
      // the frame after this one has laid out and painted the rows: what a reader waits for
      requestAnimationFrame(() => setTimeout(() => {
        first.painted_ms = performance.now();
        window.__viewFirst = first;
      }, 0));
    }
    document.body.dataset.renders = String((Number(document.body.dataset.renders) || 0) + 1);
  }

  function onChange() { state = { ...fromControls(), page: "" }; writeHash(); render(); }
  for (const k in SELECTS) $(SELECTS[k]).addEventListener("change", onChange);
  for (const id of ["f-min", "f-max", "f-q"]) $(id).addEventListener("input", onChange);
  $("f-invalid").addEventListener("change", onChange);
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("f-clear").addEventListener("click", () => { state = {}; toControls(); writeHash(); render(); });
  window.addEventListener("hashchange", () => { state = readHash(); toControls(); render(); });

  state = readHash();
  toControls();
  render();
})();
"""
