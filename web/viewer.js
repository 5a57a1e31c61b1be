/* viewer.js - the sipladder report viewer: reads a `sipladder json` document
 * (docs/json.md, "schema": "sipladder/1") embedded in the page or opened from
 * a file, and shows the calls, each call's ladder as SVG, the verdicts with
 * their evidence, connections of no call and registrations.
 *
 * Every string in the document comes from a capture and is hostile: it only
 * ever reaches the page as text (textContent, createTextNode, SVG text), never
 * as markup, a URL or an attribute that the browser interprets. */
"use strict";
(function () {
  const SCHEMA = "sipladder/1";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const ROW_H = 24;        /* a list row, as .grid-row in viewer.css */
  const LADDER_ROW = 26;   /* a ladder row */
  const COL_W = 150;       /* between two host columns; wider when there are few */
  const INFO_W = 160;      /* frame and time before the first column */
  const MAX_LADDER_ROWS = 5000;

  let doc = null;          /* the document shown */
  let model = null;        /* indexes built from it */
  let state = { tab: "calls", callSel: -1, connSel: -1, ladderSel: -1, filtered: [], ladderRows: [] };

  /* ---- DOM helpers: text only ---- */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function $(id) { return document.getElementById(id); }

  function fmtTime(t) {
    if (typeof t !== "number" || !isFinite(t)) return "";
    const d = new Date(t * 1000);
    if (isNaN(d.getTime())) return "";
    const iso = d.toISOString();
    const us = Math.round((t - Math.floor(t)) * 1e6) % 1000000;
    return iso.slice(0, 10) + " " + iso.slice(11, 19) + "." + String(us).padStart(6, "0");
  }
  function fmtClock(t) { const s = fmtTime(t); return s ? s.slice(11) : ""; }
  function hostOf(ep) {
    if (typeof ep !== "string") return "";
    if (ep.startsWith("[")) { const i = ep.indexOf("]"); return i > 0 ? ep.slice(1, i) : ep; }
    const i = ep.lastIndexOf(":");
    return i > 0 ? ep.slice(0, i) : ep;
  }
  function arr(x) { return Array.isArray(x) ? x : []; }
  function str(x) { return x === null || x === undefined ? "" : String(x); }

  function showMessage(text, info) {
    const m = $("message");
    m.textContent = text;
    m.className = info ? "info" : "";
    m.hidden = !text;
  }

  /* ---- the document ---- */
  function check(d) {
    if (!d || typeof d !== "object" || Array.isArray(d))
      return "This is not a sipladder JSON document (the file holds no JSON object).";
    if (d.type === "capture" || d.type === "call")
      return "This is a line of `sipladder json --format jsonl`; the viewer reads the whole document: `sipladder json CAPTURE -o FILE`.";
    if (d.compare && typeof d.compare === "object" && !d.schema) return null; /* sipladder compare --format json */
    if (d.schema !== SCHEMA)
      return "This viewer reads documents of schema \"" + SCHEMA + "\"; this one says " +
        (d.schema === undefined ? "no schema" : "\"" + str(d.schema) + "\"") +
        ". Make it again with this version of sipladder, or open it with the viewer of the version that wrote it.";
    return null;
  }

  function index(d) {
    const m = { hosts: new Map(), conns: new Map(), callOfConn: new Map(), verdictsOfCall: new Map(),
                verdictsOfConn: new Map(), codes: new Set(), calls: arr(d.calls), callRows: [] };
    for (const h of arr(d.hosts)) if (h && h.address) m.hosts.set(h.address, h);
    for (const c of arr(d.connections)) if (c) m.conns.set(c.index, c);
    for (const call of m.calls) for (const ci of arr(call && call.connections)) m.callOfConn.set(ci, call.id);
    for (const v of arr(d.diagnoses)) {
      if (!v) continue;
      m.codes.add(str(v.code));
      if (v.call !== null && v.call !== undefined) push(m.verdictsOfCall, v.call, v);
      if (v.connection !== null && v.connection !== undefined) push(m.verdictsOfConn, v.connection, v);
    }
    m.calls.forEach(function (call, i) {
      if (!call) return;
      const vs = verdictsOf(m, call);
      const main = vs.find(function (v) { return !v.healthy; }) || vs[0] || null;
      const hosts = new Set();
      for (const leg of arr(call.legs)) for (const h of arr(leg && leg.hosts)) if (h) hosts.add(h.address);
      const hops = new Set(arr(call.legs).map(function (l) { return l && l.hop; }));
      const row = { i: i, call: call, verdict: main, codes: vs.map(function (v) { return v.code; }),
                    hosts: hosts, hops: hops.size, time: fmtTime(call.first_time) };
      row.search = [call.id, call.caller, call.callee, call.outcome, call.final_status, row.time,
                    arr(call.legs).map(function (l) { return l && l.call_id; }).join(" "),
                    Array.from(hosts).map(function (a) { return a + " " + label(m, a); }).join(" "),
                    row.codes.join(" ")].map(str).join("\n").toLowerCase();
      m.callRows.push(row);
    });
    return m;
  }
  function push(map, k, v) { const a = map.get(k); if (a) a.push(v); else map.set(k, [v]); }
  function label(m, address) { const h = m.hosts.get(address); return h && h.label ? h.label : address; }
  function verdictsOf(m, call) {
    const out = (m.verdictsOfCall.get(call.id) || []).slice();
    for (const ci of arr(call.connections))
      for (const v of m.verdictsOfConn.get(ci) || []) if (out.indexOf(v) < 0) out.push(v);
    return out;
  }

  function load(d, source) {
    const problem = check(d);
    if (problem) { showMessage((source ? source + ": " : "") + problem); return false; }
    if (d.compare && !d.schema) { showCompare(d.compare, source); return true; }
    doc = d;
    model = index(d);
    state = { tab: "calls", callSel: -1, connSel: -1, ladderSel: -1, filtered: [], ladderRows: [], sort: "time" };
    showMessage("");
    renderHeader();
    renderTabs();
    if (!model.calls.length && arr(d.connections).length) state.tab = "connections";
    showTab(state.tab);
    return true;
  }

  function renderHeader() {
    const c = doc.capture || {};
    const files = arr(c.files).map(function (f) { return f && f.name; }).filter(Boolean).join(", ");
    const parts = [files || "(no file name)", str(c.frames) + " frames",
                   fmtTime(c.first_time) + " UTC", "span " + (typeof c.span === "number" ? c.span.toFixed(3) + " s" : "?"),
                   model.calls.length + " calls", arr(doc.diagnoses).length + " verdicts"];
    $("capture-info").textContent = parts.join(" · ");
    document.title = "sipladder: " + (files || "report");
  }

  /* ---- tabs ---- */
  const TABS = [["calls", "Calls"], ["connections", "Connections of no call"], ["registrations", "Registrations"],
                ["verdicts", "Verdicts"], ["capture", "Capture"]];
  function renderTabs() {
    const nav = clear($("tabs"));
    TABS.forEach(function (t, i) {
      const n = tabCount(t[0]);
      const b = el("button", null, n === null ? t[1] : t[1] + " (" + n + ")");
      b.type = "button";
      b.setAttribute("role", "tab");
      b.dataset.tab = t[0];
      b.title = "key " + (i + 1);
      b.addEventListener("click", function () { showTab(t[0]); });
      nav.appendChild(b);
    });
  }
  function tabCount(t) {
    if (!doc) return 0;
    if (t === "calls") return model.calls.length;
    if (t === "connections") return orphanConns().length;
    if (t === "registrations") return arr(doc.registrations).length;
    if (t === "verdicts") return arr(doc.diagnoses).length;
    return null;
  }
  function showTab(t) {
    state.tab = t;
    for (const b of $("tabs").children) b.setAttribute("aria-selected", b.dataset.tab === t ? "true" : "false");
    const main = clear($("main"));
    if (t === "calls") renderCalls(main);
    else if (t === "connections") renderConns(main);
    else if (t === "registrations") renderRegs(main);
    else if (t === "verdicts") renderVerdicts(main);
    else renderCapture(main);
  }

  /* ---- a virtualised list: only the rows in view are in the DOM ---- */
  function virtualList(parent, n, makeRow, onSelect) {
    const scroller = el("div", "scroller");
    scroller.tabIndex = 0;
    const spacer = el("div", "spacer");
    scroller.appendChild(spacer);
    parent.appendChild(scroller);
    const list = { n: n, selected: -1, scroller: scroller };
    let shown = new Map(); /* index -> row element in the DOM */
    let drawn = "";
    function draw(force) {
      spacer.style.height = (list.n * ROW_H) + "px";
      const top = scroller.scrollTop, h = scroller.clientHeight || 600;
      const first = Math.max(0, Math.floor(top / ROW_H) - 10);
      const last = Math.min(list.n, Math.ceil((top + h) / ROW_H) + 10);
      const key = first + ":" + last + ":" + list.selected;
      if (!force && key === drawn) return;
      drawn = key;
      if (force) { clear(spacer); shown = new Map(); }
      /* Rows that scrolled out go; only the rows that came into view are made. */
      for (const [i, r] of shown) if (i < first || i >= last) { r.remove(); shown.delete(i); }
      for (let i = first; i < last; i++) {
        let r = shown.get(i);
        if (!r) {
          r = makeRow(i);
          r.style.top = (i * ROW_H) + "px";
          r.dataset.index = String(i);
          spacer.appendChild(r);
          shown.set(i, r);
        }
        r.classList.toggle("selected", i === list.selected);
      }
    }
    list.draw = draw;
    list.select = function (i, scrollTo) {
      if (i < 0 || i >= list.n) return;
      list.selected = i;
      if (scrollTo) {
        const top = i * ROW_H, h = scroller.clientHeight || 600;
        if (top < scroller.scrollTop) scroller.scrollTop = top;
        else if (top + ROW_H > scroller.scrollTop + h) scroller.scrollTop = top + ROW_H - h;
      }
      draw(false);
      onSelect(i);
    };
    spacer.addEventListener("click", function (e) {
      const r = e.target.closest(".grid-row");
      if (r) list.select(Number(r.dataset.index), false);
    });
    scroller.addEventListener("scroll", function () { draw(false); });
    scroller.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "j") { list.select(Math.min(list.n - 1, list.selected + 1), true); e.preventDefault(); }
      else if (e.key === "ArrowUp" || e.key === "k") { list.select(Math.max(0, list.selected - 1), true); e.preventDefault(); }
      else if (e.key === "Home") { list.select(0, true); e.preventDefault(); }
      else if (e.key === "End") { list.select(list.n - 1, true); e.preventDefault(); }
    });
    requestAnimationFrame(function () { draw(true); });
    draw(true);
    return list;
  }
  function gridHead(cls, names, onSort) {
    const h = el("div", "grid-head " + cls);
    names.forEach(function (n) {
      const s = el("span", null, n[0]);
      if (n[1] && onSort) { s.title = "sort by " + n[0]; s.addEventListener("click", function () { onSort(n[1]); }); }
      h.appendChild(s);
    });
    return h;
  }
  function cellsRow(cls, cells) {
    const r = el("div", "grid-row " + cls);
    for (const c of cells) {
      const s = el("span", c[1] || null, c[0]);
      s.title = str(c[0]);
      r.appendChild(s);
    }
    return r;
  }

  /* ---- calls ---- */
  function renderCalls(main) {
    const left = el("section", "pane-list");
    const right = el("section", "pane-detail");
    right.id = "call-detail";
    main.appendChild(left); main.appendChild(right);
    const f = el("div", "filters");
    const q = el("input"); q.type = "search"; q.id = "search"; q.placeholder = "search number, URI, Call-ID, host, time…  ( / )";
    const hostSel = el("select"); hostSel.id = "filter-host";
    hostSel.appendChild(option("", "any host"));
    Array.from(model.hosts.values()).forEach(function (h) {
      hostSel.appendChild(option(h.address, h.label && h.label !== h.address ? h.label + " (" + h.address + ")" : h.address));
    });
    const codeSel = el("select"); codeSel.id = "filter-verdict";
    codeSel.appendChild(option("", "any verdict"));
    codeSel.appendChild(option("-", "no verdict"));
    Array.from(model.codes).sort().forEach(function (c) { codeSel.appendChild(option(c, c)); });
    const from = el("input"); from.id = "filter-from"; from.placeholder = "from (UTC)"; from.size = 10;
    const to = el("input"); to.id = "filter-to"; to.placeholder = "to (UTC)"; to.size = 10;
    from.title = to.title = "a clock time (06:46, 06:46:04.5) on the capture's first day, or a date and time (2026-11-21 06:46), UTC";
    f.appendChild(q); f.appendChild(hostSel); f.appendChild(codeSel); f.appendChild(from); f.appendChild(to);
    left.appendChild(f);
    const count = el("div", "count"); count.id = "call-count";
    left.appendChild(count);
    left.appendChild(gridHead("calls-grid", [["#", "id"], ["caller", "caller"], ["callee", "callee"], ["outcome", "outcome"],
                                             ["verdict", "verdict"], ["time", "time"], ["hops", "hops"]], sortCalls));
    let list = null;
    function apply() {
      const needle = q.value.trim().toLowerCase(), host = hostSel.value, code = codeSel.value;
      const t0 = parseWhen(from), t1 = parseWhen(to);
      state.filtered = model.callRows.filter(function (r) {
        const t = r.call.first_time;
        if (t0 !== null && !(t >= t0)) return false;
        if (t1 !== null && !(t <= t1)) return false;
        if (needle && r.search.indexOf(needle) < 0) return false;
        if (host && !r.hosts.has(host)) return false;
        if (code === "-" && r.codes.length) return false;
        if (code && code !== "-" && r.codes.indexOf(code) < 0) return false;
        return true;
      });
      sortRows();
      count.textContent = state.filtered.length + " of " + model.callRows.length + " calls";
      list.n = state.filtered.length;
      list.selected = -1;
      list.scroller.scrollTop = 0;
      list.draw(true);
      if (state.filtered.length) list.select(0, true); else clear(right).appendChild(el("p", "empty", "No call matches."));
    }
    function sortCalls(key) { state.sort = state.sort === key ? "-" + key : key; apply(); }
    list = virtualList(left, 0, function (i) {
      const r = state.filtered[i], c = r.call;
      const v = r.verdict;
      return cellsRow("calls-grid", [[c.id], [c.caller], [c.callee], [c.outcome, "outcome-" + str(c.outcome)],
                                     [v ? v.code : "", v ? (v.healthy ? "verdict-note" : "verdict-bad") : ""],
                                     [r.time.slice(11, 23)], [r.hops]]);
    }, function (i) { state.callSel = i; showCall(right, state.filtered[i].call); });
    list.scroller.id = "call-list";
    state.callList = list;
    q.addEventListener("input", apply);
    from.addEventListener("input", apply);
    to.addEventListener("input", apply);
    hostSel.addEventListener("change", apply);
    codeSel.addEventListener("change", apply);
    if (!model.callRows.length) {
      count.textContent = "no calls";
      right.appendChild(el("p", "empty", "No call in this capture. See the connections of no call and the verdicts."));
      return;
    }
    apply();
  }
  function sortRows() {
    const key = (state.sort || "time").replace(/^-/, ""), dir = (state.sort || "").startsWith("-") ? -1 : 1;
    const val = function (r) {
      switch (key) {
        case "id": return r.call.id;
        case "caller": return str(r.call.caller);
        case "callee": return str(r.call.callee);
        case "outcome": return str(r.call.outcome);
        case "verdict": return r.verdict ? str(r.verdict.code) : "";
        case "hops": return r.hops;
        default: return typeof r.call.first_time === "number" ? r.call.first_time : 0;
      }
    };
    state.filtered.sort(function (a, b) {
      const x = val(a), y = val(b);
      return (x < y ? -1 : x > y ? 1 : a.i - b.i) * dir;
    });
  }
  /* A time filter's text as epoch seconds, or null when empty or not a
   * time (the field is then marked, and does not filter). */
  function parseWhen(input) {
    const v = input.value.trim();
    input.classList.remove("bad");
    if (!v) return null;
    let m = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/.exec(v);
    let day = null, clock = null;
    if (m) { day = m[1]; clock = m[2]; }
    else if ((m = /^(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/.exec(v))) {
      const first = doc && doc.capture ? doc.capture.first_time : null;
      if (typeof first === "number") { day = new Date(first * 1000).toISOString().slice(0, 10); clock = m[1]; }
    }
    if (day && clock) {
      const parts = clock.split(":");
      const t = Date.parse(day + "T00:00:00Z") / 1000 + Number(parts[0]) * 3600 + Number(parts[1]) * 60 + (parts[2] ? Number(parts[2]) : 0);
      if (isFinite(t)) return t;
    }
    input.classList.add("bad");
    return null;
  }
  function option(v, text) { const o = el("option", null, text); o.value = v; return o; }

  function showCall(pane, call) {
    clear(pane);
    pane.appendChild(el("h2", null, "Call " + call.id + ": " + str(call.caller) + " → " + str(call.callee)));
    const facts = el("p", "muted", [str(call.outcome), call.final_status ? "final " + call.final_status : "",
                                    call.decided_by ? "decided by frame " + call.decided_by : "",
                                    fmtTime(call.first_time) + " UTC",
                                    arr(call.legs).length + " leg" + (arr(call.legs).length === 1 ? "" : "s")].filter(Boolean).join(" · "));
    pane.appendChild(facts);
    const vs = verdictsOf(model, call);
    const events = callEvents(call);
    renderVerdictBoxes(pane, vs);
    renderLadder(pane, events, vs, "Call " + call.id);
  }

  function renderVerdictBoxes(pane, vs) {
    for (const v of vs) {
      const box = el("div", "diag" + (v.healthy ? " healthy" : ""));
      box.classList.add("verdict");
      const head = el("div");
      head.appendChild(el("span", "code", v.code));
      head.appendChild(document.createTextNode(v.healthy ? "  (note)  " : "  "));
      const rb = v.rejected_by;
      if (rb) head.appendChild(el("span", "muted", "by " + str(rb.label || rb.ip) + (rb.port ? ":" + rb.port : "") +
                                  " (" + str(rb.role) + (rb.how ? ", " + rb.how : "") + ")"));
      box.appendChild(head);
      box.appendChild(el("div", "summary", v.summary));
      const causes = el("ul");
      for (const c of arr(v.causes)) causes.appendChild(el("li", null, c));
      if (causes.firstChild) box.appendChild(causes);
      const ev = arr(v.evidence);
      if (ev.length) {
        const fr = el("div", "frames");
        fr.appendChild(document.createTextNode("evidence frames: "));
        for (const n of ev) {
          const b = el("button", null, n);
          b.type = "button";
          b.title = "show frame " + n + " in the ladder";
          b.addEventListener("click", function () { selectLadderFrame(n); });
          fr.appendChild(b);
        }
        box.appendChild(fr);
      }
      pane.appendChild(box);
    }
  }

  /* ---- ladder events: SIP messages, TCP and TLS steps of the connections ---- */
  function callEvents(call) {
    const ev = [];
    for (const m of arr(call.messages)) if (m) ev.push(sipEvent(m));
    for (const ci of arr(call.connections)) { const c = model.conns.get(ci); if (c) connEvents(c, ev); }
    ev.sort(function (a, b) { return a.frame - b.frame || a.order - b.order; });
    return ev;
  }
  function sipEvent(m) {
    let text, kind = "request";
    if (typeof m.status === "number") {
      text = m.status + " " + str(m.reason);
      kind = m.status >= 300 ? "error" : "response";
    } else {
      text = m.method ? str(m.method) + (m.request_uri ? " " + str(m.request_uri) : "") : str(m.first_line) || "(malformed)";
    }
    if (m.sdp) text += " (SDP)";
    return { frame: m.frame, time: m.time, src: m.src, dst: m.dst, text: text, kind: kind, type: "sip", msg: m, order: 1 };
  }
  function connEvents(c, ev) {
    const t = c.tcp;
    if (t) {
      /* The JSON gives a SYN's frame only; the first one opened the connection, at its first_time. */
      for (const f of arr(t.syn_frames))
        ev.push({ frame: f, time: f === c.first_frame ? c.first_time : undefined, src: c.client, dst: c.server,
                  text: "TCP SYN", kind: "tcp", type: "tcp", conn: c, order: 0 });
      if (t.synack_frame) ev.push({ frame: t.synack_frame, src: c.server, dst: c.client, text: "TCP SYN-ACK", kind: "tcp", type: "tcp", conn: c, order: 0 });
      const fin = t.fin || {};
      if (fin.client) ev.push({ frame: fin.client.frame, time: fin.client.time, src: c.client, dst: c.server, text: "TCP FIN", kind: "tcp", type: "tcp", conn: c, order: 2 });
      if (fin.server) ev.push({ frame: fin.server.frame, time: fin.server.time, src: c.server, dst: c.client, text: "TCP FIN", kind: "tcp", type: "tcp", conn: c, order: 2 });
      if (t.rst) {
        const fromClient = t.rst.side === "client";
        ev.push({ frame: t.rst.frame, time: t.rst.time, src: fromClient ? c.client : c.server, dst: fromClient ? c.server : c.client,
                  text: "TCP RST" + (t.rst.suspect_injected ? " (forged?)" : ""), kind: "rst", type: "tcp", conn: c, order: 3 });
      }
    }
    const s = c.tls;
    if (s) {
      for (const h of arr(s.handshake)) {
        if (!h) continue;
        const fromClient = h.side === "client";
        ev.push({ frame: h.frame, time: h.time, src: fromClient ? c.client : c.server, dst: fromClient ? c.server : c.client,
                  text: "TLS " + str(h.name), kind: "tls", type: "tls", conn: c, step: h, order: 1 });
      }
      for (const a of arr(s.alerts)) {
        if (!a) continue;
        const fromClient = a.side === "client";
        ev.push({ frame: a.frame, time: a.time, src: fromClient ? c.client : c.server, dst: fromClient ? c.server : c.client,
                  text: "TLS Alert " + (a.encrypted ? "(encrypted)" : str(a.level) + " " + str(a.description)),
                  kind: a.level === "fatal" ? "rst" : "tls", type: "tls", conn: c, alert: a, order: 1 });
      }
    }
  }

  /* ---- the ladder as SVG ---- */
  function renderLadder(pane, events, vs, title) {
    const bar = el("div", "no-print");
    const exportSvg = el("button", null, "Export SVG"); exportSvg.type = "button";
    const exportPng = el("button", null, "Export PNG"); exportPng.type = "button";
    bar.appendChild(exportSvg); bar.appendChild(document.createTextNode(" ")); bar.appendChild(exportPng);
    bar.appendChild(el("span", "muted", "  " + events.length + " rows; click a row, or focus the ladder and use ↑/↓"));
    pane.appendChild(bar);
    if (!events.length) { pane.appendChild(el("p", "empty", "Nothing to draw.")); return; }
    const shown = events.slice(0, MAX_LADDER_ROWS);
    if (events.length > shown.length)
      pane.appendChild(el("p", "bad", "The first " + shown.length + " of " + events.length + " rows are drawn."));
    /* Columns: hosts in the order they first appear, as the text ladder. */
    const cols = [], colOf = new Map();
    for (const e of shown) for (const ep of [e.src, e.dst]) {
      const h = hostOf(ep);
      if (!colOf.has(h)) { colOf.set(h, cols.length); cols.push(h); }
    }
    const rejecters = new Set(), evidence = new Set();
    for (const v of vs) {
      if (!v.healthy && v.rejected_by && v.rejected_by.ip) rejecters.add(v.rejected_by.ip);
      for (const f of arr(v.evidence)) evidence.add(f);
    }
    const colW = cols.length <= 2 ? 2 * COL_W : cols.length === 3 ? Math.round(COL_W * 1.4) : COL_W;
    const top = 54, width = INFO_W + cols.length * colW + 40, height = top + shown.length * LADDER_ROW + 16;
    const s = svg("svg", { class: "ladder", width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img" });
    s.appendChild(svg("title", {}, title + " ladder"));
    const cx = function (i) { return INFO_W + colW / 2 + i * colW; };
    cols.forEach(function (h, i) {
      const rej = rejecters.has(h);
      s.appendChild(svg("line", { class: "lifeline", x1: cx(i), y1: top - 6, x2: cx(i), y2: height - 8 }));
      s.appendChild(svg("rect", { class: "host-box" + (rej ? " rejecter" : ""), x: cx(i) - colW / 2 + 6, y: 4, width: colW - 12, height: 40, rx: 4 }));
      const lab = label(model, h);
      s.appendChild(svg("text", { class: "host-label" + (rej ? " rejecter" : ""), x: cx(i), y: 20, "text-anchor": "middle" }, clip(lab, Math.floor((colW - 20) / 7.5))));
      s.appendChild(svg("text", { class: "info", x: cx(i), y: 36, "text-anchor": "middle" },
                        rej ? "✖ rejected" : (lab !== h ? clip(h, Math.floor((colW - 20) / 7.5)) : "")));
    });
    s.appendChild(svg("text", { class: "info", x: 6, y: 20 }, "frame  time"));
    state.ladderRows = [];
    let prevTime = null;
    shown.forEach(function (e, r) {
      const y = top + r * LADDER_ROW;
      const g = svg("g", { class: "row kind-" + e.kind + (evidence.has(e.frame) ? " evidence" : ""), "data-frame": e.frame, "data-row": r });
      g.appendChild(svg("title", {}, "frame " + e.frame + "  " + (typeof e.time === "number" ? fmtTime(e.time) + " UTC" +
                        (prevTime !== null ? "  (+" + (e.time - prevTime).toFixed(6) + " s)" : "") + "\n" : "\n") +
                        str(e.src) + " → " + str(e.dst) + "\n" + e.text));
      if (typeof e.time === "number") prevTime = e.time;
      g.appendChild(svg("rect", { class: "row-bg", x: 0, y: y, width: width, height: LADDER_ROW }));
      const time = typeof e.time === "number" ? fmtClock(e.time) : ""; /* as the text ladder: the clock, UTC */
      g.appendChild(svg("text", { class: "info frame", x: 6, y: y + 17 }, str(e.frame)));
      g.appendChild(svg("text", { class: "info", x: 50, y: y + 17 }, time));
      const a = colOf.get(hostOf(e.src)), b = colOf.get(hostOf(e.dst));
      const x1 = cx(a), x2 = cx(b), ay = y + 19;
      if (a === b) {
        g.appendChild(svg("path", { class: "arrow", d: "M" + x1 + " " + (ay - 8) + " h 30 v 8 h -26" }));
        g.appendChild(svg("path", { class: "head", d: "M" + x1 + " " + ay + " l 7 -4 v 8 z" }));
        g.appendChild(svg("text", { class: "msg", x: x1 + 36, y: ay - 3 }, clip(e.text, 30)));
      } else {
        const dir = x2 > x1 ? 1 : -1;
        g.appendChild(svg("line", { class: "arrow", x1: x1, y1: ay, x2: x2 - dir * 6, y2: ay }));
        g.appendChild(svg("path", { class: "head", d: "M" + x2 + " " + ay + " l " + (-dir * 8) + " -4 v 8 z" }));
        const span = Math.abs(x2 - x1);
        g.appendChild(svg("text", { class: "msg", x: (x1 + x2) / 2, y: ay - 4, "text-anchor": "middle" },
                          clip(e.text, Math.max(8, Math.floor((span - 14) / 7.3)))));
        if (e.kind === "error" && rejecters.has(hostOf(e.src)))
          g.appendChild(svg("text", { class: "reject-mark", x: x1 - dir * 6 - (dir > 0 ? 10 : 0), y: ay + 4 }, "✖")); /* behind the arrow's start */
      }
      s.appendChild(g);
      state.ladderRows.push({ g: g, e: e });
    });
    const wrap = el("div", "ladder-wrap");
    wrap.id = "ladder";
    wrap.tabIndex = 0;
    wrap.appendChild(s);
    pane.appendChild(wrap);
    const detail = el("div", "detail");
    detail.id = "detail";
    detail.appendChild(el("p", "muted", "Click a row of the ladder to see the message, the TLS step or the TCP event."));
    pane.appendChild(detail);
    s.addEventListener("click", function (ev) {
      const g = ev.target.closest("g.row");
      if (g) selectLadderRow(Number(g.getAttribute("data-row")));
    });
    wrap.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" || ev.key === "j") { selectLadderRow(Math.min(state.ladderRows.length - 1, state.ladderSel + 1)); ev.preventDefault(); ev.stopPropagation(); }
      else if (ev.key === "ArrowUp" || ev.key === "k") { selectLadderRow(Math.max(0, state.ladderSel - 1)); ev.preventDefault(); ev.stopPropagation(); }
    });
    exportSvg.addEventListener("click", function () { download(title + ".svg", new Blob([svgText(s)], { type: "image/svg+xml" })); });
    exportPng.addEventListener("click", function () { exportAsPng(s, title + ".png"); });
    state.ladderSel = -1;
  }
  function clip(t, n) { t = str(t); return t.length > n ? t.slice(0, Math.max(1, n - 1)) + "…" : t; }

  function selectLadderRow(r) {
    if (r < 0 || r >= state.ladderRows.length) return;
    if (state.ladderSel >= 0 && state.ladderRows[state.ladderSel]) state.ladderRows[state.ladderSel].g.classList.remove("selected");
    state.ladderSel = r;
    const row = state.ladderRows[r];
    row.g.classList.add("selected");
    const wrap = $("ladder");
    if (wrap) {
      const y = 54 + r * LADDER_ROW;
      const pane = wrap.closest(".pane-detail");
      if (pane && (y + wrap.offsetTop < pane.scrollTop || y + wrap.offsetTop > pane.scrollTop + pane.clientHeight - 60))
        pane.scrollTop = Math.max(0, wrap.offsetTop + y - 80);
    }
    showDetail(row.e);
  }
  function selectLadderFrame(frame) {
    const r = state.ladderRows.findIndex(function (x) { return x.e.frame === frame; });
    if (r >= 0) { selectLadderRow(r); const w = $("ladder"); if (w) w.focus({ preventScroll: true }); }
    else showMessage("Frame " + frame + " is not a row of this ladder (a frame of another kind, e.g. a TCP retransmission).", true);
  }

  /* ---- detail of a row ---- */
  function showDetail(e) {
    const d = clear($("detail"));
    const head = el("h3", null, "Frame " + e.frame + ": " + e.text);
    const copy = el("button", "no-print", "Copy frame number");
    copy.type = "button";
    copy.addEventListener("click", function () {
      const t = String(e.frame);
      if (navigator.clipboard) navigator.clipboard.writeText(t).catch(function () { showMessage("Frame " + t + " (the clipboard was refused)", true); });
    });
    head.appendChild(document.createTextNode(" "));
    head.appendChild(copy);
    d.appendChild(head);
    if (e.type === "sip") sipDetail(d, e.msg);
    else if (e.type === "tls") tlsDetail(d, e);
    else tcpDetail(d, e.conn);
  }
  function kv(parent, pairs) {
    const dl = el("dl", "kv");
    for (const p of pairs) {
      if (p[1] === null || p[1] === undefined || p[1] === "") continue;
      dl.appendChild(el("dt", null, p[0]));
      dl.appendChild(el("dd", null, p[1]));
    }
    parent.appendChild(dl);
    return dl;
  }
  function sipDetail(d, m) {
    kv(d, [["time", fmtTime(m.time) + " UTC"], ["from → to", str(m.src) + " → " + str(m.dst) + " (" + str(m.transport) + (m.websocket ? ", WebSocket" : "") + ")"],
           ["frames", m.first_frame && m.first_frame !== m.frame ? m.first_frame + "–" + m.frame : String(m.frame)],
           ["connection", m.connection], ["size", m.size !== undefined ? m.size + " bytes, body " + str(m.body_length) : null],
           ["note", m.note], ["malformed", m.malformed ? str(m.malformed_reason) || "yes" : null],
           ["lenient", m.lenient_reason], ["escaped", m.escaped ? "invalid UTF-8 replaced by U+FFFD" : null]]);
    const pre = el("pre", "sip message-text");
    pre.appendChild(document.createTextNode(str(m.first_line) + "\n"));
    for (const h of arr(m.headers)) {
      if (!h) continue;
      pre.appendChild(el("span", "hname", str(h.name) + ":"));
      pre.appendChild(document.createTextNode(" " + str(h.value) + "\n"));
    }
    d.appendChild(pre);
    if (m.sdp) sdpDetail(d, m.sdp);
  }
  function sdpDetail(d, s) {
    d.appendChild(el("h3", null, "SDP"));
    kv(d, [["origin", s.origin_address], ["connection", s.connection_address], ["direction", s.direction],
           ["crypto", s.crypto ? "yes" : null], ["bad lines", s.bad_lines || null]]);
    const t = el("table", "plain");
    const hr = el("tr");
    for (const h of ["media", "port", "protocol", "address", "direction", "codecs"]) hr.appendChild(el("th", null, h));
    t.appendChild(hr);
    for (const m of arr(s.media)) {
      if (!m) continue;
      const tr = el("tr");
      for (const v of [m.media, m.port, m.protocol, m.connection_address, m.direction,
                       arr(m.codecs).map(function (c) { return c ? str(c.codec || c.format) + (c.pt !== null && c.pt !== undefined ? " (" + c.pt + ")" : "") : ""; }).join(", ")])
        tr.appendChild(el("td", null, str(v)));
      t.appendChild(tr);
    }
    d.appendChild(t);
  }
  function tcpDetail(d, c) {
    const t = c.tcp || {};
    const fin = t.fin || {};
    const closeText = function (x) { return x ? "frame " + x.frame + " from " + str(x.from) + (x.ttl !== undefined ? " ttl " + x.ttl : "") + (x.suspect_injected ? " (TTL unusual: forged?)" : "") : null; };
    kv(d, [["connection", "#" + c.index + " " + str(c.transport) + " " + str(c.client) + " → " + str(c.server)],
           ["frames", str(c.first_frame) + "–" + str(c.last_frame)],
           ["SYN frames", arr(t.syn_frames).join(", ")], ["SYN-ACK", t.synack_frame], ["established", t.established_frame],
           ["handshake RTT", typeof t.handshake_rtt === "number" ? (t.handshake_rtt * 1000).toFixed(3) + " ms" : null],
           ["refused", t.refused ? "yes (RST to the SYN)" : null], ["client FIN", closeText(fin.client)], ["server FIN", closeText(fin.server)],
           ["RST", closeText(t.rst)], ["retransmissions", pair(t.retransmissions)], ["gaps", pair(t.gaps)],
           ["dissector", c.dissector]]);
    connVerdicts(d, c);
  }
  function pair(p) { return p && (p.client || p.server) ? "client " + str(p.client) + ", server " + str(p.server) : null; }
  function connVerdicts(d, c) {
    const vs = model.verdictsOfConn.get(c.index) || [];
    if (vs.length) { d.appendChild(el("h3", null, "Verdicts of this connection")); renderVerdictBoxes(d, vs); }
  }
  function tlsDetail(d, e) {
    const c = e.conn, s = c.tls || {};
    if (e.step) kv(d, [["step", str(e.step.name) + (e.step.type !== null && e.step.type !== undefined ? " (type " + e.step.type + ")" : "")],
                       ["from", str(e.step.from) + " (" + str(e.step.side) + ")"], ["length", e.step.length],
                       ["time", fmtTime(e.step.time) + " UTC"]]);
    if (e.alert) kv(d, [["alert", e.alert.encrypted ? "encrypted" : str(e.alert.level) + " " + str(e.alert.description) + " (" + str(e.alert.description_id) + ")"],
                        ["from", str(e.alert.from) + " (" + str(e.alert.side) + ")"]]);
    d.appendChild(el("h3", null, "TLS on connection #" + c.index + " " + str(c.client) + " → " + str(c.server)));
    const ch = s.client_hello || {}, sh = s.server_hello || {};
    kv(d, [["SNI", ch.sni], ["ALPN", arr(ch.alpn).join(", ")], ["offered versions", arr(ch.versions).join(", ")],
           ["version", sh.version], ["cipher", sh.cipher ? str(sh.cipher.name) : null], ["mutual", s.mutual ? "yes" : null],
           ["outcome", s.outcome ? str(s.outcome.reason || s.outcome.kind) : null]]);
    const certs = s.certificates || {};
    for (const side of ["server", "client"]) {
      const chain = certs[side];
      if (!chain) continue;
      d.appendChild(el("h3", null, "Certificate chain of the " + side + " (frame " + str(chain.frame) + ")"));
      arr(chain.certificates).forEach(function (x, i) {
        if (!x) return;
        const box = el("div", "cert" + (x.broken ? " broken" : ""));
        box.appendChild(el("strong", null, "#" + i + " " + str(x.subject_cn || x.subject)));
        kv(box, [["subject", x.subject], ["issuer", x.issuer], ["SAN DNS", arr(x.san_dns).join(", ")], ["SAN IP", arr(x.san_ip).join(", ")],
                 ["valid", fmtTime(x.not_before).slice(0, 10) + " to " + fmtTime(x.not_after).slice(0, 10)],
                 ["key", x.key ? str(x.key.type) + " " + str(x.key.bits) : null], ["signature", x.signature_algorithm],
                 ["serial", x.serial], ["SHA-256", x.sha256], ["CA", x.is_ca ? "yes" : null], ["error", x.error]]);
        d.appendChild(box);
      });
    }
    const checks = s.outcome && arr(s.outcome.checks);
    if (checks && checks.length) {
      d.appendChild(el("h3", null, "Chain checks"));
      const ul = el("ul");
      for (const k of checks) ul.appendChild(el("li", null, typeof k === "string" ? k : JSON.stringify(k)));
      d.appendChild(ul);
    }
    connVerdicts(d, c);
  }

  /* ---- connections of no call ---- */
  function orphanConns() {
    return arr(doc.connections).filter(function (c) { return c && !model.callOfConn.has(c.index); });
  }
  function renderConns(main) {
    const left = el("section", "pane-list"), right = el("section", "pane-detail");
    main.appendChild(left); main.appendChild(right);
    const rows = orphanConns();
    left.appendChild(el("div", "count", rows.length + " connections that belong to no call"));
    left.appendChild(gridHead("conns-grid", [["#"], ["proto"], ["client"], ["server"], ["first"], ["verdict / TLS"]]));
    const list = virtualList(left, rows.length, function (i) {
      const c = rows[i], vs = model.verdictsOfConn.get(c.index) || [];
      const v = vs[0];
      const sni = c.tls && c.tls.client_hello ? c.tls.client_hello.sni : null;
      return cellsRow("conns-grid", [[c.index], [c.transport + (c.tls ? "/tls" : "")], [c.client], [c.server], [c.first_frame],
                                     [v ? v.code : sni ? "SNI " + sni : str(c.dissector), v ? "verdict-bad" : ""]]);
    }, function (i) {
      const c = rows[i];
      clear(right);
      right.appendChild(el("h2", null, "Connection #" + c.index + ": " + str(c.client) + " → " + str(c.server)));
      const vs = model.verdictsOfConn.get(c.index) || [];
      renderVerdictBoxes(right, vs);
      const ev = [];
      connEvents(c, ev);
      ev.sort(function (a, b) { return a.frame - b.frame || a.order - b.order; });
      renderLadder(right, ev, vs, "Connection " + c.index);
    });
    list.scroller.id = "conn-list";
    state.connList = list;
    if (!rows.length) right.appendChild(el("p", "empty", "Every connection belongs to a call."));
    else list.select(0, false);
  }

  /* ---- registrations ---- */
  function renderRegs(main) {
    const pane = el("section", "pane-detail");
    main.appendChild(pane);
    const regs = arr(doc.registrations);
    pane.appendChild(el("h2", null, regs.length + " registrations"));
    const t = el("table", "plain");
    const hr = el("tr");
    for (const h of ["address of record", "client", "registrar", "last status", "expires", "authentication"]) hr.appendChild(el("th", null, h));
    t.appendChild(hr);
    for (const r of regs) {
      if (!r) continue;
      const tr = el("tr");
      const who = function (h) { return h ? str(h.label || h.address) + (h.label && h.label !== h.address ? " (" + h.address + ")" : "") : ""; };
      for (const v of [r.aor, who(r.client), who(r.registrar), r.last_status, r.expires,
                       r.auth_failed ? "failed" : r.auth_challenged ? "challenged" : ""])
        tr.appendChild(el("td", null, str(v)));
      t.appendChild(tr);
    }
    pane.appendChild(t);
  }

  /* ---- every verdict ---- */
  function renderVerdicts(main) {
    const pane = el("section", "pane-detail");
    main.appendChild(pane);
    const vs = arr(doc.diagnoses).filter(Boolean);
    pane.appendChild(el("h2", null, vs.length + " verdicts"));
    for (const v of vs) {
      const where = v.call !== null && v.call !== undefined ? "call " + v.call : v.connection !== null && v.connection !== undefined ? "connection #" + v.connection : "";
      const b = el("button", null, "go to " + where);
      b.type = "button";
      b.addEventListener("click", function () { goTo(v); });
      const holder = el("div");
      renderVerdictBoxes(holder, [v]);
      if (where) holder.firstChild.appendChild(b);
      pane.appendChild(holder);
    }
    const ot = doc.other_traffic;
    if (ot && typeof ot === "object") {
      pane.appendChild(el("h3", null, "Other traffic (not judged)"));
      pane.appendChild(el("pre", "sip", JSON.stringify(ot, null, 1)));
    }
  }
  function goTo(v) {
    if (v.call !== null && v.call !== undefined) {
      showTab("calls");
      const i = state.filtered.findIndex(function (r) { return r.call.id === v.call; });
      if (i >= 0) state.callList.select(i, true);
    } else if (v.connection !== null && v.connection !== undefined) {
      const callId = model.callOfConn.get(v.connection);
      if (callId !== undefined) return goTo({ call: callId });
      showTab("connections");
      const rows = orphanConns();
      const i = rows.findIndex(function (c) { return c.index === v.connection; });
      if (i >= 0) state.connList.select(i, true);
    }
  }

  /* ---- a firewall's two sides compared (sipladder compare --format json) ---- */
  function table(parent, heads, rows) {
    const t = el("table", "plain");
    const hr = el("tr");
    for (const h of heads) hr.appendChild(el("th", null, h));
    t.appendChild(hr);
    for (const r of rows) {
      const tr = el("tr");
      for (const v of r) tr.appendChild(el("td", null, str(v)));
      t.appendChild(tr);
    }
    parent.appendChild(t);
    return t;
  }
  function flowText(f) { return f ? str(f.transport) + " " + str(f.client) + " → " + str(f.server) + " (frame " + str(f.first_frame) + ", " + str(f.packets) + " packets)" : ""; }
  function showCompare(c, source) {
    doc = null; model = null;
    showMessage("");
    const sides = arr(c.sides);
    const names = sides.map(function (x) { return x && x.name; });
    $("capture-info").textContent = "firewall comparison: " + sides.map(function (x) {
      return x ? str(x.name) + " " + arr(x.files).join(", ") + " (" + str(x.frames) + " frames)" : ""; }).join(" · ");
    document.title = "sipladder compare" + (source ? ": " + source : "");
    clear($("tabs"));
    const main = clear($("main"));
    const pane = el("section", "pane-detail");
    pane.id = "compare";
    main.appendChild(pane);
    pane.appendChild(el("h2", null, "Firewall: " + names.join(" ↔ ")));
    const off = c.clock_offset || {};
    kv(pane, [["clock offset", typeof off.seconds === "number" ? off.seconds.toFixed(6) + " s (" + (off.forced ? "forced" : "from " + str(off.pairs) + " packet pairs, spread " + str(off.spread_s) + " s") + ")" : null]]);
    const vs = arr(c.verdicts).filter(Boolean);
    pane.appendChild(el("h3", null, vs.length + " verdicts"));
    for (const v of vs) {
      const box = el("div", "diag verdict");
      const head = el("div");
      head.appendChild(el("span", "code", v.code));
      head.appendChild(el("span", "muted", "  blame: " + str(v.blame) + (v.entered_from ? " (traffic entering from " + v.entered_from + ")" : "")));
      box.appendChild(head);
      box.appendChild(el("div", "summary", v.summary));
      const fr = v.frames || {};
      box.appendChild(el("div", "frames", "frames: " + Object.keys(fr).map(function (k) { return k + " " + str(fr[k]); }).join(", ")));
      pane.appendChild(box);
    }
    const sd = arr(c.side_diagnoses).filter(Boolean);
    if (sd.length) {
      pane.appendChild(el("h3", null, "Each side's own diagnosis"));
      table(pane, ["side", "code", "summary", "evidence", "explained by"],
            sd.map(function (x) { return [x.side, x.code, x.summary, arr(x.evidence).join(", "), x.explained_by]; }));
    }
    pane.appendChild(el("h3", null, "Connections"));
    table(pane, ["fate"].concat(names).concat(["paired packets"]),
          arr(c.connections).filter(Boolean).map(function (x) {
            return [x.fate].concat(names.map(function (n) { return flowText(x[n]); })).concat([x.paired_packets]); }));
    const nat = arr(c.nat).filter(Boolean);
    if (nat.length) {
      pane.appendChild(el("h3", null, "NAT mapping"));
      table(pane, names, nat.map(function (x) { return names.map(function (n) { return flowText(x[n]); }); }));
    }
    const lat = arr(c.latency).filter(Boolean);
    if (lat.length) {
      pane.appendChild(el("h3", null, "Latency through the firewall"));
      table(pane, ["from", "to", "packets", "median", "p99", "max"], lat.map(function (x) {
        const ms = function (v) { return typeof v === "number" ? (v * 1000).toFixed(3) + " ms" : ""; };
        return [x.from, x.to, x.packets, ms(x.median_s), ms(x.p99_s), ms(x.max_s)]; }));
    }
    window.sipladderReady = true;
  }

  /* ---- the capture ---- */
  function renderCapture(main) {
    const pane = el("section", "pane-detail");
    main.appendChild(pane);
    const c = doc.capture || {};
    pane.appendChild(el("h2", null, "Capture"));
    kv(pane, [["files", arr(c.files).map(function (f) { return f ? str(f.name) + " (" + str(f.link_type) + ")" : ""; }).join(", ")],
              ["frames", c.frames], ["bytes", c.bytes], ["first", fmtTime(c.first_time) + " UTC"], ["last", fmtTime(c.last_time) + " UTC"],
              ["skipped", c.skipped], ["malformed", c.malformed], ["cut", c.cut], ["truncated", c.truncated ? "yes" : null],
              ["strings replaced", c.strings_replaced], ["generator", doc.generator ? str(doc.generator.name) + " " + str(doc.generator.version) : null]]);
    const w = arr(c.warnings);
    if (w.length) { pane.appendChild(el("h3", null, "Warnings")); const ul = el("ul"); for (const x of w) ul.appendChild(el("li", null, x)); pane.appendChild(ul); }
    pane.appendChild(el("h3", null, "Hosts"));
    const t = el("table", "plain");
    const hr = el("tr");
    for (const h of ["address", "label", "product", "role", "messages sent", "flows"]) hr.appendChild(el("th", null, h));
    t.appendChild(hr);
    for (const h of arr(doc.hosts)) {
      if (!h) continue;
      const tr = el("tr");
      for (const v of [h.address, h.label, h.product, h.role, h.messages_sent, h.flows]) tr.appendChild(el("td", null, str(v)));
      t.appendChild(tr);
    }
    pane.appendChild(t);
  }

  /* ---- export ---- */
  function svgText(s) {
    const copy = s.cloneNode(true);
    copy.setAttribute("xmlns", SVG_NS);
    const style = document.createElementNS(SVG_NS, "style");
    /* The export carries the colours of the theme in use, resolved. */
    const cs = getComputedStyle(document.documentElement);
    const v = function (n) { return cs.getPropertyValue(n).trim(); };
    style.textContent = "text{font:12px monospace;fill:" + v("--fg") + "}.info{fill:" + v("--muted") + "}" +
      ".lifeline{stroke:" + v("--line") + ";stroke-dasharray:4 3}.host-box{fill:" + v("--panel") + ";stroke:" + v("--line") + "}" +
      ".rejecter{stroke:" + v("--bad") + "}.host-label.rejecter,.reject-mark{fill:" + v("--bad") + "}" +
      ".arrow{stroke:" + v("--accent") + ";fill:none}.head{fill:" + v("--accent") + "}.row-bg{fill:none}" +
      ".evidence .row-bg{fill:" + v("--evidence") + "}.kind-response .arrow{stroke:" + v("--ok") + "}.kind-response .head{fill:" + v("--ok") + "}" +
      ".kind-error .arrow,.kind-rst .arrow{stroke:" + v("--bad") + "}.kind-error .head,.kind-rst .head{fill:" + v("--bad") + "}" +
      ".kind-tcp .arrow{stroke:" + v("--tcp") + ";stroke-dasharray:5 3}.kind-tls .arrow{stroke:" + v("--tls") + ";stroke-dasharray:2 2}";
    copy.insertBefore(style, copy.firstChild);
    const bg = document.createElementNS(SVG_NS, "rect");
    bg.setAttribute("width", "100%"); bg.setAttribute("height", "100%"); bg.setAttribute("fill", v("--bg"));
    copy.insertBefore(bg, style.nextSibling);
    return new XMLSerializer().serializeToString(copy);
  }
  function download(name, blob) {
    const a = document.createElement("a");
    a.download = name.replace(/[^A-Za-z0-9._-]+/g, "_");
    a.href = URL.createObjectURL(blob);
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  function exportAsPng(s, name) {
    const img = new Image();
    const url = URL.createObjectURL(new Blob([svgText(s)], { type: "image/svg+xml" }));
    img.onload = function () {
      const canvas = document.createElement("canvas");
      canvas.width = s.width.baseVal.value * 2; canvas.height = s.height.baseVal.value * 2;
      const ctx = canvas.getContext("2d");
      ctx.scale(2, 2);
      ctx.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      canvas.toBlob(function (b) { if (b) download(name, b); });
    };
    img.onerror = function () { URL.revokeObjectURL(url); showMessage("The PNG could not be made; export the SVG instead.", true); };
    img.src = url;
  }

  /* ---- opening a file ---- */
  function openFile(file) {
    if (!file) return;
    const reader = new FileReader();
    reader.onload = function () {
      let d;
      try { d = JSON.parse(String(reader.result)); }
      catch (err) {
        showMessage(file.name + ": cannot read it as JSON (" + err.message + "). The viewer opens the output of `sipladder json CAPTURE -o FILE`.");
        return;
      }
      load(d, file.name);
    };
    reader.onerror = function () { showMessage(file.name + ": cannot read the file."); };
    reader.readAsText(file);
  }

  /* ---- theme ---- */
  function setTheme(t) {
    document.documentElement.setAttribute("data-theme", t);
    try { localStorage.setItem("sipladder-theme", t); } catch (e) { /* file:// may refuse storage */ }
  }
  function initTheme() {
    let t = null;
    try { t = localStorage.getItem("sipladder-theme"); } catch (e) { t = null; }
    if (t !== "dark" && t !== "light") t = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    document.documentElement.setAttribute("data-theme", t);
  }

  function onKey(e) {
    const tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "?") { $("help").hidden = !$("help").hidden; e.preventDefault(); }
    else if (e.key === "Escape") $("help").hidden = true;
    else if (e.key === "o") $("open-file").click();
    else if (e.key === "t") setTheme(document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark");
    else if (!doc) return;
    else if (e.key >= "1" && e.key <= "5") showTab(TABS[Number(e.key) - 1][0]);
    else if (e.key === "/" && $("search")) { $("search").focus(); e.preventDefault(); }
    else if ((e.key === "j" || e.key === "ArrowDown" || e.key === "k" || e.key === "ArrowUp") &&
             (state.tab === "calls" || state.tab === "connections")) {
      const l = state.tab === "calls" ? state.callList : state.connList;
      if (!l) return;
      l.select(e.key === "j" || e.key === "ArrowDown" ? Math.min(l.n - 1, l.selected + 1) : Math.max(0, l.selected - 1), true);
      e.preventDefault();
    } else if (e.key === "Enter" && state.ladderRows.length) selectLadderRow(Math.max(0, state.ladderSel));
  }

  function init() {
    initTheme();
    $("theme-toggle").addEventListener("click", function () {
      setTheme(document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark");
    });
    $("print-button").addEventListener("click", function () { window.print(); });
    $("help-button").addEventListener("click", function () { $("help").hidden = !$("help").hidden; });
    $("open-file").addEventListener("change", function (e) { openFile(e.target.files && e.target.files[0]); e.target.value = ""; });
    document.addEventListener("keydown", onKey);
    document.addEventListener("dragover", function (e) { e.preventDefault(); document.body.classList.add("dragging"); });
    document.addEventListener("dragleave", function () { document.body.classList.remove("dragging"); });
    document.addEventListener("drop", function (e) {
      e.preventDefault();
      document.body.classList.remove("dragging");
      openFile(e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0]);
    });
    const data = $("sl-data");
    const text = data ? data.textContent.trim() : "";
    if (!text) {
      showMessage("No analysis in this page: open a `sipladder json` file (Open JSON…, or drop it here).", true);
      return;
    }
    const t0 = performance.now();
    unpack(text, data.getAttribute("data-encoding")).then(function (json) {
      let d;
      try { d = JSON.parse(json); }
      catch (err) { showMessage("The analysis embedded in this page is not valid JSON: " + err.message); return; }
      const t1 = performance.now();
      load(d, null);
      /* For tests/check_html.py --bench: where the first paint's time goes. */
      window.sipladderTimings = { unpack_and_parse_ms: t1 - t0, render_ms: performance.now() - t1,
                                  packed_bytes: text.length, json_bytes: json.length };
      window.sipladderReady = true;
    }, function (err) {
      showMessage("The analysis embedded in this page cannot be unpacked (" + str(err && err.message) +
                  "): this browser may lack DecompressionStream (Chromium 80, Firefox 113, Safari 16.4 and later have it).");
    });
  }

  /* The page's analysis: JSON text, gzip-compressed and base64-encoded by
   * src/render_html.c ("gzip-base64"), or plain JSON. */
  function unpack(text, encoding) {
    if (encoding !== "gzip-base64") return Promise.resolve(text);
    if (typeof DecompressionStream !== "function") return Promise.reject(new Error("no DecompressionStream"));
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }

  window.sipladderViewer = { load: load, check: check };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
