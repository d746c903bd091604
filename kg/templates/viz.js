/* The kg graph page: reads the graph from the #kg-data element and draws it with
 * vis-network (inlined above this script).
 *
 * Safety: every label, note and quote is data. It reaches the page only through
 * textContent, createElement and createTextNode, vis-network's canvas (labels) or
 * vis-network tooltips built here as DOM elements; never through innerHTML or as
 * markup. Links are made only for http(s) IRIs.
 *
 * For tests and tools: window.network is the vis Network; window.kg.ready turns true
 * (and <html data-ready="true">) once the graph is drawn and laid out.
 */
(function () {
  "use strict";

  performance.mark("kg:start");
  const data = JSON.parse(document.getElementById("kg-data").textContent);
  performance.mark("kg:parsed");
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const UNTYPED = { label: "no class", color: "#9aa3ad", shape: "dot" };

  // ------------------------------------------------------------------ DOM helpers

  const $ = (id) => document.getElementById(id);

  /** An element with text and children; props: class, text, and plain attributes. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const SVG = "http://www.w3.org/2000/svg";

  /** A small SVG of a vis-network shape, for the legend. */
  function shapeIcon(shape, colour) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    let node;
    const poly = (points) => {
      const p = document.createElementNS(SVG, "polygon");
      p.setAttribute("points", points);
      return p;
    };
    switch (shape) {
      case "square":
        node = document.createElementNS(SVG, "rect");
        for (const [k, v] of [["x", 3], ["y", 3], ["width", 14], ["height", 14]]) node.setAttribute(k, v);
        break;
      case "diamond": node = poly("10,1 19,10 10,19 1,10"); break;
      case "triangle": node = poly("10,2 19,18 1,18"); break;
      case "triangleDown": node = poly("1,2 19,2 10,18"); break;
      case "star": node = poly("10,1 12.6,7 19,7.3 14,11.4 15.6,18 10,14.4 4.4,18 6,11.4 1,7.3 7.4,7"); break;
      case "hexagon": node = poly("5,2 15,2 19.5,10 15,18 5,18 0.5,10"); break;
      default:
        node = document.createElementNS(SVG, "circle");
        for (const [k, v] of [["cx", 10], ["cy", 10], ["r", 8]]) node.setAttribute(k, v);
    }
    node.setAttribute("fill", colour);
    node.setAttribute("stroke", darker(colour));
    node.setAttribute("stroke-width", "1.5");
    svg.append(node);
    return svg;
  }

  function darker(hex) {
    const m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return "#333333";
    const n = parseInt(m[1], 16);
    const c = [n >> 16, (n >> 8) & 255, n & 255].map((v) => Math.round(v * 0.65));
    return "#" + c.map((v) => v.toString(16).padStart(2, "0")).join("");
  }

  function setStatus(message, ...extra) {
    const box = $("status");
    box.replaceChildren();
    if (!message) {
      box.hidden = true;
      return;
    }
    box.append(el("span", { text: message }), ...extra);
    box.hidden = false;
  }

  const plural = (n, one, many) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

  // ------------------------------------------------------------------ the data

  const nodesById = new Map(data.nodes.map((n) => [n.id, n]));
  const edgesById = new Map(data.edges.map((e) => [e.id, e]));
  const edgesOf = new Map(data.nodes.map((n) => [n.id, []]));
  for (const e of data.edges) {
    edgesOf.get(e.from).push(e);
    if (e.to !== e.from) edgesOf.get(e.to).push(e);
  }
  const qualified = new Map(); // node id -> facts it qualifies (population, context...)
  for (const e of data.edges) {
    for (const id of e.qn || []) {
      if (!qualified.has(id)) qualified.set(id, []);
      qualified.get(id).push(e);
    }
  }
  const classOf = (n) => (n.types.length ? data.classes[n.types[0]] : UNTYPED);
  const relationOf = (e) => data.relations[e.rel];
  const kindOrder = new Map(data.kinds.map((k, i) => [k.label, i]));
  const factLabel = (e) => (e.neg ? "not: " : "") + relationOf(e).label;

  // ------------------------------------------------------------------ tooltips

  // Plain strings: vis-network shows a string title as text (innerText), never as
  // markup; the first line is the heading (bold by CSS).
  function nodeTooltip(n) {
    const lines = [n.label, n.types.map((i) => data.classes[i].label).join(", ") || UNTYPED.label];
    if (n.alt) lines.push("also: " + n.alt.join(", "));
    if (n.def) lines.push(n.def);
    const q = (qualified.get(n.id) || []).length;
    const counts = [n.deg || !q ? plural(n.deg, "fact", "facts") : null, q ? `qualifies ${plural(q, "fact", "facts")}` : null];
    lines.push(counts.filter(Boolean).join(", ") + " · click for the evidence");
    return lines.join("\n");
  }

  function edgeTooltip(e) {
    const lines = [`${nodesById.get(e.from).label} ${factLabel(e)} ${nodesById.get(e.to).label}`];
    const qualifiers = qualifierTexts(e);
    if (qualifiers.length) lines.push(qualifiers.join(" · "));
    for (const i of e.ev || []) lines.push("“" + data.evidence[i].exact + "”");
    return lines.join("\n");
  }

  function qualifierTexts(e) {
    const out = [];
    if (e.pop) out.push("for " + e.pop.map((i) => data.populations[i].label).join(", "));
    for (const [key, values] of Object.entries(e.qual || {})) out.push(`${key}: ${values.join(", ")}`);
    return out;
  }

  // ------------------------------------------------------------------ vis data

  const big = !data.layout.physics;
  let physicsOn = data.layout.physics;
  const nodes = new vis.DataSet(data.nodes.map((n) => {
    const cls = classOf(n);
    const border = darker(cls.color);
    return {
      id: n.id, label: n.label, x: n.x, y: n.y, value: Math.sqrt(n.deg + 1), shape: cls.shape,
      color: {
        background: cls.color, border,
        highlight: { background: cls.color, border: "#111827" },
        hover: { background: cls.color, border: "#111827" },
      },
      title: nodeTooltip(n),
      // entities in no fact (qualifier values: night, winter...) keep their place in a row
      physics: n.deg > 0,
    };
  }));
  const edges = new vis.DataSet(data.edges.map((e) => {
    const item = {
      id: e.id, from: e.from, to: e.to, label: factLabel(e), title: edgeTooltip(e),
    };
    if (e.neg) {
      item.dashes = [8, 6];
      item.color = { color: "#b45353", highlight: "#7f1d1d", hover: "#7f1d1d" };
    }
    if (e.dup) {
      const side = e.dup % 2 ? "curvedCW" : "curvedCCW";
      item.smooth = { enabled: true, type: side, roundness: 0.3 * Math.ceil(e.dup / 2) };
    }
    return item;
  }));

  performance.mark("kg:datasets");

  // ------------------------------------------------------------------ filters

  const isolated = data.nodes.filter((n) => n.deg === 0).map((n) => n.id);
  const state = { population: "", kinds: new Set(data.kinds.map((k) => k.label)) };
  let shownEdges = new Set(data.edges.map((e) => e.id));
  let shownNodes = new Set(data.nodes.map((n) => n.id));

  function edgeShown(e) {
    if (!state.kinds.has(relationOf(e).kind)) return false;
    // e.for: the populations a fact concerns, when not all (computed by kg, as for
    // 'kg export --population': stated for no other population, nor about another one)
    return state.population === "" || !e.for || e.for.includes(Number(state.population));
  }

  const nodeView = new vis.DataView(nodes, { filter: (item) => shownNodes.has(item.id) });
  const edgeView = new vis.DataView(edges, { filter: (item) => shownEdges.has(item.id) });

  function applyFilters() {
    shownEdges = new Set();
    shownNodes = new Set(isolated);
    for (const e of data.edges) {
      if (edgeShown(e)) {
        shownEdges.add(e.id);
        shownNodes.add(e.from);
        shownNodes.add(e.to);
      }
    }
    // a node hidden and shown again comes back where its data says: keep moved ones there
    if (network && physicsOn) network.storePositions();
    edgeView.refresh();
    nodeView.refresh();
    updateShown();
    if (current && !(current.node ? shownNodes.has(current.id) : shownEdges.has(current.id))) {
      showIntro();
    } else if (current) {
      current.node ? showNode(current.id) : showEdge(current.id);
    }
  }

  function updateShown() {
    const all = shownNodes.size === data.nodes.length && shownEdges.size === data.edges.length;
    $("shown").textContent = all
      ? `${plural(data.nodes.length, "entity", "entities")}, ${plural(data.edges.length, "fact", "facts")}`
      : `showing ${shownNodes.size.toLocaleString("en")} of ${plural(data.nodes.length, "entity", "entities")}, ` +
        `${shownEdges.size.toLocaleString("en")} of ${plural(data.edges.length, "fact", "facts")}`;
  }

  function buildFilters() {
    const select = $("population");
    for (const [i, p] of data.populations.entries()) {
      if (!p.option) continue;
      select.append(el("option", { value: String(i), text: `${p.label} (${plural(p.count, "fact", "facts")})` }));
    }
    select.disabled = select.options.length < 2;
    select.addEventListener("change", () => {
      state.population = select.value;
      applyFilters();
    });

    const list = $("kinds");
    for (const kind of data.kinds) {
      const box = el("input", { type: "checkbox", value: kind.label });
      box.checked = true;
      box.addEventListener("change", () => {
        box.checked ? state.kinds.add(kind.label) : state.kinds.delete(kind.label);
        applyFilters();
      });
      list.append(el("li", {}, el("label", {}, box, " " + kind.label + " ",
        el("span", { class: "count", text: String(kind.count) }))));
    }
    const setAll = (on) => {
      for (const box of list.querySelectorAll("input")) box.checked = on;
      state.kinds = new Set(on ? data.kinds.map((k) => k.label) : []);
      applyFilters();
    };
    $("kinds-all").addEventListener("click", () => setAll(true));
    $("kinds-none").addEventListener("click", () => setAll(false));
  }

  function buildLegend() {
    const legend = $("legend");
    const untyped = data.nodes.filter((n) => !n.types.length).length;
    for (const [f, family] of data.families.entries()) {
      const members = data.classes.filter((c) => c.family === f && c.count > 0);
      if (!members.length) continue;
      const list = el("ul", { class: "legend-list" });
      for (const cls of members) list.append(legendItem(cls, data.classes.indexOf(cls)));
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = family.color;
      legend.append(el("div", { class: "family" }, el("p", { class: "family-name" }, swatch, family.label), list));
    }
    if (untyped) {
      legend.append(el("ul", { class: "legend-list" }, legendItem(Object.assign({ count: untyped }, UNTYPED), -1)));
    }
  }

  function legendItem(cls, index) {
    const button = el("button", { type: "button", class: "legend-item", title: `Select the ${cls.label} entities` },
      shapeIcon(cls.shape, cls.color), el("span", { class: "legend-label", text: cls.label }),
      el("span", { class: "count", text: String(cls.count) }));
    button.addEventListener("click", () => {
      const ids = data.nodes
        .filter((n) => (index < 0 ? !n.types.length : n.types.includes(index)) && shownNodes.has(n.id))
        .map((n) => n.id);
      network.selectNodes(ids);
      setStatus(`${plural(ids.length, "entity", "entities")} of class “${cls.label}” selected.`);
    });
    return el("li", {}, button);
  }

  // ------------------------------------------------------------------ the side panel

  let current = null; // {node: true|false, id}

  function openPanel() {
    $("main").classList.add("with-panel");
  }

  function showIntro() {
    current = null;
    $("panel-body").replaceChildren(...introChildren);
  }

  const introChildren = Array.from($("panel-body").childNodes);

  function entityButton(id) {
    const n = nodesById.get(id);
    const button = el("button", { type: "button", class: "entity", text: n.label });
    button.addEventListener("click", () => focusNode(id, true));
    return button;
  }

  function evidenceBlock(i) {
    const ev = data.evidence[i];
    const quote = el("blockquote", { class: "evidence" },
      ev.prefix || "", el("mark", { text: ev.exact }), ev.suffix || "");
    const where = [];
    if (ev.source) where.push("“" + ev.source + "”");
    if (ev.start !== null && ev.start !== undefined) where.push(`characters ${ev.start}–${ev.end}`);
    return el("figure", { class: "quote" }, quote,
      where.length ? el("figcaption", { text: where.join(", ") }) : null);
  }

  function factItem(e, viewpoint) {
    const item = el("li", { class: "fact" + (e.neg ? " negated" : "") });
    const from = e.from === viewpoint ? el("strong", { text: nodesById.get(e.from).label }) : entityButton(e.from);
    const to = e.to === viewpoint ? el("strong", { text: nodesById.get(e.to).label }) : entityButton(e.to);
    item.append(el("p", { class: "statement" }, from, " ",
      el("span", { class: "relation", text: factLabel(e) }), " ", to));
    if (e.neg) item.append(el("p", { class: "chips" }, el("span", { class: "chip warn", text: "the document says this does not hold" })));
    const qualifiers = qualifierTexts(e);
    if (qualifiers.length) {
      item.append(el("p", { class: "chips" }, ...qualifiers.map((q) => el("span", { class: "chip", text: q }))));
    }
    for (const i of e.ev || []) item.append(evidenceBlock(i));
    if (!e.ev || !e.ev.length) item.append(el("p", { class: "muted", text: "No evidence recorded for this fact." }));
    if (e.note) item.append(el("p", { class: "note" }, el("span", { class: "note-label", text: "Curator’s note: " }), e.note));
    return item;
  }

  function showNode(id) {
    const n = nodesById.get(id);
    if (!n) return;
    current = { node: true, id };
    const body = [];
    const classes = n.types.map((i) => data.classes[i]);
    body.push(el("p", { class: "kicker" }, ...(classes.length ? classes : [UNTYPED]).map((c) =>
      el("span", { class: "class-chip" }, shapeIcon(c.shape, c.color), c.label))));
    body.push(el("h2", { id: "panel-title", text: n.label }));
    if (n.def) {
      body.push(el("section", { class: "definition" }, el("h3", { text: "Definition" }),
        el("p", { text: n.def }), ...(n.defEv || []).map(evidenceBlock)));
    }
    if (n.alt) {
      body.push(el("section", {}, el("h3", { text: "Also called" }),
        el("ul", { class: "names" }, ...n.alt.map((a) => el("li", { text: a })))));
    }
    if (n.xrefs) {
      body.push(el("section", {}, el("h3", { text: "Cross-references" }),
        el("ul", { class: "xrefs" }, ...n.xrefs.map((x) => el("li", {},
          el("span", { class: "muted", text: x.rel + ": " }), link(x.iri, x.curie),
          x.label ? " " + x.label : null)))));
    }
    const all = edgesOf.get(id);
    const shown = all.filter((e) => shownEdges.has(e.id));
    if (all.length || !qualified.has(id)) {
      body.push(el("h3", { text: `Facts (${shown.length}${shown.length < all.length ? " of " + all.length : ""})` }));
    }
    if (shown.length < all.length) {
      body.push(el("p", { class: "muted", text: `${plural(all.length - shown.length, "fact is", "facts are")} hidden by the filters.` }));
    }
    const groups = new Map();
    for (const e of shown) {
      const outgoing = e.from === id;
      const key = `${outgoing ? 0 : 1}\u0000${e.neg ? 1 : 0}\u0000${e.rel}`;
      if (!groups.has(key)) groups.set(key, { outgoing, e, items: [] });
      groups.get(key).items.push(e);
    }
    const ordered = Array.from(groups.values()).sort((a, b) =>
      (kindOrder.get(relationOf(a.e).kind) - kindOrder.get(relationOf(b.e).kind)) ||
      (a.outgoing === b.outgoing ? 0 : a.outgoing ? -1 : 1) ||
      relationOf(a.e).label.localeCompare(relationOf(b.e).label) || (a.e.neg ? 1 : 0) - (b.e.neg ? 1 : 0));
    for (const group of ordered) {
      const heading = group.outgoing ? `${n.label} ${factLabel(group.e)} …` : `… ${factLabel(group.e)} ${n.label}`;
      const other = (e) => nodesById.get(group.outgoing ? e.to : e.from).label;
      group.items.sort((a, b) => other(a).localeCompare(other(b)));
      body.push(el("section", { class: "facts" },
        el("h4", { text: `${heading} (${group.items.length})` }),
        el("ol", { class: "fact-list" }, ...group.items.map((e) => factItem(e, id)))));
    }
    const qualifies = (qualified.get(id) || []).filter((e) => shownEdges.has(e.id));
    if (qualifies.length) {
      body.push(el("section", { class: "facts" },
        el("h3", { text: `Facts qualified by ${n.label} (${qualifies.length})` }),
        el("p", { class: "muted", text: "Facts stated for this population, or that hold in this context, severity or frequency." }),
        el("ol", { class: "fact-list" }, ...qualifies.map((e) => factItem(e, null)))));
    }
    body.push(el("p", { class: "iri" }, "IRI: ", el("code", { text: n.id })));
    $("panel-body").replaceChildren(...body);
    $("panel-body").scrollTop = 0;
    $("panel").scrollTop = 0;
    openPanel();
  }

  function showEdge(id) {
    const e = edgesById.get(id);
    if (!e) return;
    current = { node: false, id };
    const heading = `${nodesById.get(e.from).label} ${factLabel(e)} ${nodesById.get(e.to).label}`;
    const body = [
      el("p", { class: "kicker", text: "Fact" + (e.fact ? " · " + e.fact : "") }),
      el("h2", { id: "panel-title", text: heading }),
      el("ol", { class: "fact-list" }, factItem(e, null)),
    ];
    $("panel-body").replaceChildren(...body);
    openPanel();
  }

  /** A link to an http(s) IRI (any other scheme, javascript: included, stays text). */
  function link(iri, text) {
    if (/^https?:\/\/[^\s]+$/i.test(iri)) {
      return el("a", { href: iri, target: "_blank", rel: "noopener noreferrer external", text: text || iri, title: iri });
    }
    return el("code", { text: text || iri });
  }

  // ------------------------------------------------------------------ search

  const names = []; // [lower-case name, node id]: labels, other names, then ids
  for (const n of data.nodes) {
    names.push([n.label.toLowerCase(), n.id]);
    for (const a of n.alt || []) names.push([a.toLowerCase(), n.id]);
  }
  for (const n of data.nodes) names.push([n.id.replace(/^.*[/#]/, "").toLowerCase(), n.id]);

  function buildSearch() {
    const list = $("search-list");
    const options = [];
    for (const n of data.nodes) {
      options.push(el("option", { value: n.label }));
      for (const a of n.alt || []) options.push(el("option", { value: a, label: n.label }));
    }
    list.append(...options);
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      search($("search").value);
    });
    $("search").addEventListener("change", () => {
      const q = $("search").value.trim().toLowerCase();
      if (names.some(([name]) => name === q)) search(q);
    });
  }

  function find(query) {
    const q = query.trim().toLowerCase();
    if (!q) return null;
    const tests = [(name) => name === q, (name) => name.startsWith(q), (name) => name.includes(q)];
    for (const test of tests) {
      const hits = names.filter(([name]) => test(name)).map(([, id]) => id);
      if (hits.length) return hits.find((id) => shownNodes.has(id)) || hits[0];
    }
    return null;
  }

  function search(query) {
    const id = find(query);
    if (!id) {
      setStatus(`No entity is called “${query.trim()}”.`);
      return;
    }
    if (!shownNodes.has(id)) {
      const button = el("button", { type: "button", text: "Show everything" });
      button.addEventListener("click", () => {
        resetFilters();
        focusNode(id, true);
      });
      setStatus(`“${nodesById.get(id).label}” is hidden by the filters. `, button);
      return;
    }
    focusNode(id, true);
  }

  function focusNode(id, withPanel) {
    if (!shownNodes.has(id)) {
      search(nodesById.get(id).label);
      return;
    }
    setStatus("");
    network.selectNodes([id]);
    network.focus(id, {
      scale: Math.max(network.getScale(), 1.0),
      animation: reduceMotion ? false : { duration: 600, easingFunction: "easeInOutQuad" },
    });
    if (withPanel) showNode(id);
  }

  function resetFilters() {
    state.population = "";
    state.kinds = new Set(data.kinds.map((k) => k.label));
    $("population").value = "";
    for (const box of $("kinds").querySelectorAll("input")) box.checked = true;
    applyFilters();
  }

  // ------------------------------------------------------------------ the network

  const options = {
    autoResize: true,
    layout: { improvedLayout: false, randomSeed: 7 },
    nodes: {
      borderWidth: 2,
      borderWidthSelected: 4,
      font: { size: 20, face: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", color: "#1d2433",
        strokeWidth: 5, strokeColor: "#ffffff" },
      // size and label grow with the number of facts; small labels appear as you zoom in
      scaling: { min: 14, max: 56, label: { enabled: true, min: 20, max: 46, maxVisible: 36, drawThreshold: 6 } },
    },
    edges: {
      arrows: { to: { enabled: true, scaleFactor: 0.7 } },
      // a big graph's thousands of edges stay light, so that its nodes show through
      color: { color: big ? "rgba(152, 162, 179, 0.45)" : "#98a2b3", highlight: "#1d2433",
        hover: "#334155", inherit: false },
      width: big ? 0.8 : 1.5,
      selectionWidth: 2,
      hoverWidth: 1,
      font: { size: 16, face: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", color: "#475569",
        strokeWidth: 5, strokeColor: "#ffffff", align: "middle" },
      smooth: data.layout.smooth ? { enabled: true, type: "continuous", roundness: 0.3 } : false,
      scaling: { label: { drawThreshold: 8 } },
    },
    physics: {
      enabled: data.layout.physics,
      solver: "forceAtlas2Based",
      forceAtlas2Based: { gravitationalConstant: -140, centralGravity: 0.01, springLength: 170,
        springConstant: 0.05, damping: 0.5, avoidOverlap: 0.9 },
      maxVelocity: 60,
      stabilization: { enabled: data.layout.physics, iterations: data.layout.iterations, updateInterval: 50, fit: true },
    },
    interaction: {
      hover: true,
      tooltipDelay: 150,
      hideEdgesOnDrag: big,
      hideEdgesOnZoom: big,
      keyboard: { enabled: true, bindToWindow: false },
      multiselect: false,
      navigationButtons: false,
    },
  };

  let network = null;
  const container = $("graph");
  network = new vis.Network(container, { nodes: nodeView, edges: edgeView }, options);
  window.network = network;
  performance.mark("kg:network");

  const api = { ready: false, firstDrawMs: null, data, showNode, showEdge, search, applyFilters, state };
  window.kg = api;

  let drawn = false;
  let settled = !data.layout.physics;
  function markReady() {
    if (drawn && settled && !api.ready) {
      api.ready = true;
      api.readyMs = performance.now();
      document.documentElement.dataset.ready = "true";
    }
  }
  network.once("afterDrawing", () => {
    api.firstDrawMs = performance.now();
    drawn = true;
    markReady();
  });
  /** Entities in no fact (qualifier values such as night or winter) in rows under the rest. */
  function tidyIsolated() {
    const linked = data.nodes.filter((n) => n.deg > 0).map((n) => n.id);
    if (!isolated.length || !linked.length) return;
    const pos = Object.values(network.getPositions(linked));
    const minX = Math.min(...pos.map((p) => p.x)), maxX = Math.max(...pos.map((p) => p.x));
    const maxY = Math.max(...pos.map((p) => p.y));
    const step = 170, perRow = Math.max(1, Math.floor((maxX - minX) / step) + 1);
    const order = isolated.slice().sort((a, b) => {
      const na = nodesById.get(a), nb = nodesById.get(b);
      return (na.types[0] ?? -1) - (nb.types[0] ?? -1) || na.label.localeCompare(nb.label);
    });
    const width = Math.min(order.length, perRow) * step;
    order.forEach((id, i) => {
      network.moveNode(id, (minX + maxX) / 2 - width / 2 + step / 2 + (i % perRow) * step,
        maxY + 200 + Math.floor(i / perRow) * 110);
    });
  }

  network.once("stabilizationIterationsDone", () => {
    network.setOptions({ physics: { enabled: false } });
    physicsOn = false;
    tidyIsolated();
    network.fit({ animation: false });
    $("physics").checked = false;
    settled = true;
    markReady();
  });

  network.on("dragEnd", (params) => {
    if (!params.nodes.length || physicsOn) return;
    const moved = network.getPositions(params.nodes);
    nodes.update(params.nodes.map((id) => ({ id, x: moved[id].x, y: moved[id].y })));
  });

  network.on("click", (params) => {
    if (params.nodes.length) showNode(params.nodes[0]);
    else if (params.edges.length) showEdge(params.edges[0]);
  });

  $("physics").checked = false;
  $("physics").addEventListener("change", (event) => {
    const on = event.target.checked;
    if (!on) network.storePositions();
    physicsOn = on;
    network.setOptions({ physics: { enabled: on, stabilization: { enabled: false } } });
    if (on && big) setStatus("Physics on a graph this size is slow: turn it off to keep the page responsive.");
    else setStatus("");
  });
  $("reset").addEventListener("click", () => {
    network.unselectAll();
    network.fit({ animation: reduceMotion ? false : { duration: 500, easingFunction: "easeInOutQuad" } });
    $("search").value = "";
    setStatus("");
    showIntro();
  });
  $("panel-close").addEventListener("click", () => $("main").classList.remove("with-panel"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") $("main").classList.remove("with-panel");
  });

  if (window.matchMedia("(max-width: 1000px)").matches) {
    // a narrow screen: filters and legend folded, so that the graph comes first
    $("relations-box").open = false;
    $("legend-box").open = false;
  }
  buildFilters();
  buildLegend();
  buildSearch();
  updateShown();
  if (!data.nodes.length) {
    $("empty").hidden = false;
    drawn = settled = true;
    markReady();
  }
  const counts = data.counts;
  if (counts.nodes < counts.totalNodes) {
    setStatus(`Showing the ${counts.nodes.toLocaleString("en")} most connected of ` +
      `${plural(counts.totalNodes, "entity", "entities")}. Draw fewer with a subgraph, or more with kg viz --max-nodes.`);
  }
})();
