/* The kg graph page: reads the graph from the #kg-data element and draws it with
 * vis-network (inlined above this script).
 *
 * Safety: every label, note and quote is data. It reaches the page only through
 * textContent, createElement and createTextNode, vis-network's canvas (labels) or
 * vis-network tooltips given as plain strings; never through innerHTML or as markup.
 * Links are made only for http(s) IRIs.
 *
 * What the reader looks at (entity or fact, population, relations, folded groups,
 * story step, table) lives in the address's fragment (#entity=...&population=...), so
 * that a copied address opens the same view.
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
  // a touch screen has no hover: tooltips would stick, the panel says it all instead
  const touch = window.matchMedia("(hover: none)").matches;
  const UNTYPED = { label: "no class", color: "#9aa3ad", shape: "dot" };
  //: labels are drawn at least this many pixels high on the screen (times the text size)
  const MIN_LABEL_PX = 13;
  const FADED = 0.22;

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
  const edgesByFact = new Map(data.edges.filter((e) => e.fact).map((e) => [e.fact, e]));
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
  const localName = (id) => id.replace(/^.*[/#]/, "");
  const storiesById = new Map((data.stories || []).map((s) => [s.id, s]));
  const groups = data.groups || [];
  const groupOf = new Map(); // member node id -> index of its group
  groups.forEach((g, i) => g.members.forEach((m) => groupOf.set(m, i)));

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
    // every other qualifier kg knows (context, severity, frequency, salience...), by name
    for (const [key, values] of Object.entries(e.qual || {})) out.push(`${key}: ${values.join(", ")}`);
    return out;
  }

  // ------------------------------------------------------------------ vis data

  const big = !data.layout.physics;
  let physicsOn = data.layout.settle;
  function nodeColour(cls) {
    const border = darker(cls.color);
    return {
      background: cls.color, border,
      highlight: { background: cls.color, border: "#111827" },
      hover: { background: cls.color, border: "#111827" },
    };
  }
  const nodes = new vis.DataSet(data.nodes.map((n) => {
    const cls = classOf(n);
    const item = {
      id: n.id, label: n.label, x: n.x, y: n.y, value: Math.sqrt(n.deg + 1), shape: cls.shape,
      color: nodeColour(cls),
      // entities in no fact (qualifier values: night, winter...) keep their place in a row
      physics: n.deg > 0,
    };
    if (!touch) item.title = nodeTooltip(n);
    return item;
  }));
  const EDGE_COLOUR = big ? "rgba(152, 162, 179, 0.45)" : "#98a2b3";
  function edgeColour(e, faded) {
    if (e.neg) return { color: faded ? "rgba(180, 83, 83, 0.2)" : "#b45353", highlight: "#7f1d1d", hover: "#7f1d1d" };
    return { color: faded ? "rgba(152, 162, 179, 0.2)" : EDGE_COLOUR, highlight: "#1d2433", hover: "#334155" };
  }
  const edges = new vis.DataSet(data.edges.map((e) => {
    const item = { id: e.id, from: e.from, to: e.to, label: factLabel(e) };
    if (!touch) item.title = edgeTooltip(e);
    if (e.neg) {
      item.dashes = [8, 6];
      item.color = edgeColour(e, false);
    }
    if (e.dup) {
      const side = e.dup % 2 ? "curvedCW" : "curvedCCW";
      item.smooth = { enabled: true, type: side, roundness: 0.3 * Math.ceil(e.dup / 2) };
    }
    return item;
  }));
  // a folded group of a hub's neighbours: one node, linked to the hub
  groups.forEach((g, i) => {
    const members = g.members.map((m) => nodesById.get(m));
    const x = members.reduce((s, n) => s + n.x, 0) / members.length;
    const y = members.reduce((s, n) => s + n.y, 0) / members.length;
    nodes.add({ id: `group:${i}`, label: `${g.kind} (${members.length})`, x, y, shape: "box",
      color: { background: "#eef2fb", border: "#2f5fb3" }, font: { size: 22, color: "#1d2433" },
      margin: 10, physics: false, title: touch ? undefined : `${members.length} entities folded: click to unfold` });
    edges.add({ id: `group-edge:${i}`, from: `group:${i}`, to: g.hub, label: g.kind, dashes: [4, 4], physics: false });
  });

  performance.mark("kg:datasets");

  // ------------------------------------------------------------------ filters

  const isolated = data.nodes.filter((n) => n.deg === 0).map((n) => n.id);
  const isolatedSet = new Set(isolated);
  const state = {
    population: "", general: false, kinds: new Set(data.kinds.map((k) => k.label)),
    folded: new Set(), story: null, step: 0, table: false, textSize: 1, presenting: false,
  };
  let shownEdges = new Set(data.edges.map((e) => e.id));
  let shownNodes = new Set(data.nodes.map((n) => n.id));
  let fadedEdges = new Set();
  let fadedNodes = new Set();
  let shownGroups = new Set();
  const breakdown = { specific: 0, stated: 0, about: 0, descriptive: 0, general: 0, generalShown: 0 };

  // e.for: the populations a fact concerns, when not all (computed by kg, as for
  // 'kg export --population': stated for no other population, nor about another one);
  // e.sp: those it is specific to (stated for them, or naming them)
  const concerns = (e, pop) => !e.for || e.for.includes(pop);
  const isSpecific = (e, pop) => !!e.sp && e.sp.includes(pop);
  const kindOn = (e) => state.kinds.has(relationOf(e).kind);

  const nodeView = new vis.DataView(nodes, { filter: (item) => shownNodes.has(item.id) || shownGroups.has(item.id) });
  const edgeView = new vis.DataView(edges, { filter: (item) => shownEdges.has(item.id) || shownGroups.has(item.id) });

  /** The facts the filters keep: under a population, those specific to it (and those
   * for everyone when asked, faded), and of the descriptive ones (anatomy, kinds of)
   * those about an entity another kept fact names: the rule of 'kg export --population'. */
  function selectFacts() {
    const keep = new Set();
    const faded = new Set();
    const pop = state.population === "" ? null : Number(state.population);
    Object.assign(breakdown, { specific: 0, stated: 0, about: 0, descriptive: 0, general: 0, generalShown: 0 });
    if (pop === null) {
      for (const e of data.edges) if (kindOn(e)) keep.add(e.id);
      return { keep, faded };
    }
    const taking = new Set();
    const takingSpecific = new Set();
    for (const e of data.edges) {
      if (!kindOn(e) || relationOf(e).desc || !concerns(e, pop)) continue;
      if (isSpecific(e, pop)) {
        breakdown.specific++;
        if (e.pop && e.pop.includes(pop)) breakdown.stated++;
        else breakdown.about++;
        takingSpecific.add(e.from);
        takingSpecific.add(e.to);
      } else {
        breakdown.general++;
        if (!state.general) continue;
        faded.add(e.id);
      }
      keep.add(e.id);
      taking.add(e.from);
      taking.add(e.to);
    }
    for (const e of data.edges) {
      if (kindOn(e) && relationOf(e).desc && concerns(e, pop) && taking.has(e.from)) {
        keep.add(e.id);
        // described for an entity only facts for everyone name: faded with them
        if (takingSpecific.has(e.from)) breakdown.descriptive++;
        else faded.add(e.id);
      }
    }
    breakdown.generalShown = faded.size;
    return { keep, faded };
  }

  function applyFilters(options) {
    const { keep, faded } = selectFacts();
    const story = state.story ? storiesById.get(state.story) : null;
    if (story) for (const step of story.steps) for (const id of step.edges) keep.add(id);
    // folded groups: their members (and the facts that name them) give way to one node
    const hidden = new Set();
    shownGroups = new Set();
    for (const i of state.folded) {
      for (const m of groups[i].members) hidden.add(m);
    }
    shownEdges = new Set();
    shownNodes = new Set();
    const pop = state.population;
    for (const e of data.edges) {
      if (!keep.has(e.id)) continue;
      if (hidden.has(e.from) || hidden.has(e.to)) {
        const g = groupOf.get(hidden.has(e.from) ? e.from : e.to);
        if (g !== undefined && state.folded.has(g)) {
          shownGroups.add(`group:${g}`);
          shownGroups.add(`group-edge:${g}`);
        }
        continue;
      }
      shownEdges.add(e.id);
      shownNodes.add(e.from);
      shownNodes.add(e.to);
    }
    for (const id of isolated) {
      // entities in no fact (night, winter...): all of them, or those qualifying a fact shown
      if (pop === "" || (qualified.get(id) || []).some((e) => shownEdges.has(e.id))) shownNodes.add(id);
    }
    for (const g of Array.from(shownGroups)) {
      if (g.startsWith("group:") && !shownNodes.has(groups[Number(g.slice(6))].hub)) {
        shownGroups.delete(g);
        shownGroups.delete("group-edge:" + g.slice(6));
      }
    }
    // facts for everyone, shown under a population on request, are faded, as are the
    // entities only they name
    const nodesFaded = new Set();
    if (faded.size) {
      const strong = new Set();
      for (const id of shownEdges) {
        if (!faded.has(id)) {
          const e = edgesById.get(id);
          strong.add(e.from);
          strong.add(e.to);
        }
      }
      for (const id of shownNodes) if (!strong.has(id) && !isolatedSet.has(id)) nodesFaded.add(id);
    }
    restyle(faded, nodesFaded);
    // a node hidden and shown again comes back where its data says: keep moved ones there
    if (network && physicsOn) storePositions();
    edgeView.refresh();
    nodeView.refresh();
    updateShown();
    if (laidOut) labelSizes();
    if (state.table) fillTable();
    if (options && options.quiet) return;
    if (current && !(current.node ? shownNodes.has(current.id) : shownEdges.has(current.id))) {
      showIntro();
    } else if (current) {
      current.node ? showNode(current.id) : showEdge(current.id);
    }
    saveState();
  }

  /** Fade or restore the colours of what changed since the last call. */
  function restyle(faded, nodesFaded) {
    const edgeUpdates = [];
    for (const id of new Set([...fadedEdges, ...faded])) {
      if (fadedEdges.has(id) !== faded.has(id)) {
        const e = edgesById.get(id);
        edgeUpdates.push({ id, color: faded.has(id) ? edgeColour(e, true) : edgeColour(e, false) });
      }
    }
    const nodeUpdates = [];
    for (const id of new Set([...fadedNodes, ...nodesFaded])) {
      if (fadedNodes.has(id) !== nodesFaded.has(id)) {
        nodeUpdates.push({ id, opacity: nodesFaded.has(id) ? FADED : 1 });
      }
    }
    if (edgeUpdates.length) edges.update(edgeUpdates);
    if (nodeUpdates.length) nodes.update(nodeUpdates);
    fadedEdges = faded;
    fadedNodes = nodesFaded;
  }

  // a fact has evidence; other links (skos:related) are drawn but not counted as facts
  const factIds = new Set(data.edges.filter((e) => e.ev).map((e) => e.id));
  function updateShown() {
    const all = shownNodes.size === data.nodes.length && shownEdges.size === data.edges.length;
    const shownFacts = [...shownEdges].filter((id) => factIds.has(id)).length;
    const links = (all ? data.edges.length : shownEdges.size) - (all ? factIds.size : shownFacts);
    const other = links ? `, ${plural(links, "other link", "other links")}` : "";
    $("shown").textContent = all
      ? `${plural(data.nodes.length, "entity", "entities")}, ${plural(factIds.size, "fact", "facts")}${other}`
      : `showing ${shownNodes.size.toLocaleString("en")} of ${plural(data.nodes.length, "entity", "entities")}, ` +
        `${shownFacts.toLocaleString("en")} of ${plural(factIds.size, "fact", "facts")}${other}`;
    const pop = state.population === "" ? null : data.populations[Number(state.population)];
    if (!pop) {
      if (populationNote) setStatus("");
      populationNote = false;
      return;
    }
    const parts = [`${plural(breakdown.stated, "fact", "facts")} stated for ${pop.label}`];
    if (breakdown.about) parts.push(`${plural(breakdown.about, "fact", "facts")} about them`);
    if (breakdown.descriptive) parts.push(`${breakdown.descriptive} describing what these name (anatomy, kinds of)`);
    const everyone = state.general
      ? `, and ${plural(breakdown.generalShown, "fact", "facts")} for everyone, faded`
      : `; ${plural(breakdown.general, "fact", "facts")} for everyone are hidden`;
    const button = el("button", { type: "button", id: "general", "aria-pressed": String(state.general),
      text: state.general ? "Hide them" : "Show them, faded" });
    button.addEventListener("click", () => {
      state.general = !state.general;
      applyFilters();
      $("general").focus();
    });
    setStatus(`For ${pop.label}: ${parts.join(", ")}${everyone}.`, button);
    populationNote = true;
  }
  let populationNote = false;

  function buildFilters() {
    const select = $("population");
    for (const [i, p] of data.populations.entries()) {
      if (!p.option) continue;
      select.append(el("option", { value: String(i), text: `Facts for ${p.label} (${plural(p.stated, "fact", "facts")})` }));
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

    if (groups.length) {
      $("groups-box").hidden = false;
      $("groups-title").textContent = `Around ${nodesById.get(groups[0].hub).label}`;
      groups.forEach((g, i) => {
        const box = el("input", { type: "checkbox", value: String(i), id: `group-box-${i}` });
        box.checked = true;
        box.addEventListener("change", () => setFolded(i, !box.checked));
        $("groups").append(el("li", {}, el("label", {}, box, " " + g.kind + " ",
          el("span", { class: "count", text: String(g.members.length) }))));
      });
    }
  }

  function setFolded(i, folded) {
    folded ? state.folded.add(i) : state.folded.delete(i);
    const box = $(`group-box-${i}`);
    if (box) box.checked = !folded;
    applyFilters();
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

  /** Open or close the panel; the canvas takes the room left at once (vis-network
   * would notice only later), so that what is framed stays framed. */
  function openPanel() {
    if ($("main").classList.contains("with-panel")) return;
    $("main").classList.add("with-panel");
    if (network) network.setSize("100%", "100%");
  }

  function closePanel() {
    if (!$("main").classList.contains("with-panel")) return;
    $("main").classList.remove("with-panel");
    if (network) network.setSize("100%", "100%");
    saveState();
  }

  function showIntro() {
    current = null;
    $("panel-body").replaceChildren(...introChildren);
    saveState();
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
    saveState();
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
    $("panel").scrollTop = 0;
    openPanel();
    saveState();
  }

  /** A link to an http(s) IRI (any other scheme, javascript: included, stays text). */
  function link(iri, text) {
    if (/^https?:\/\/[^\s]+$/i.test(iri)) {
      return el("a", { href: iri, target: "_blank", rel: "noopener noreferrer external", text: text || iri, title: iri });
    }
    return el("code", { text: text || iri });
  }

  // ------------------------------------------------------------------ stories

  function buildStories() {
    const select = $("story");
    for (const story of data.stories || []) {
      select.append(el("option", { value: story.id, text: `${story.title} (${plural(story.steps.length, "step", "steps")})` }));
    }
    $("story-box").hidden = !(data.stories || []).length;
    select.addEventListener("change", () => (select.value ? startStory(select.value, 0) : endStory()));
    $("story-prev").addEventListener("click", () => stepStory(-1));
    $("story-next").addEventListener("click", () => stepStory(1));
    $("story-end").addEventListener("click", endStory);
  }

  function startStory(id, step) {
    const story = storiesById.get(id);
    if (!story) return;
    state.story = id;
    $("story").value = id;
    if (story.population) {
      const wanted = story.population.toLowerCase();
      const i = data.populations.findIndex((p) => p.option &&
        (p.label.toLowerCase() === wanted || localName(p.iri) === wanted || p.iri === story.population));
      if (i >= 0) {
        state.population = String(i);
        $("population").value = String(i);
      }
    }
    applyFilters({ quiet: true });
    showStep(Math.max(0, Math.min(step, story.steps.length - 1)));
  }

  function stepStory(delta) {
    const story = state.story && storiesById.get(state.story);
    if (!story) return;
    const next = state.step + delta;
    if (next >= 0 && next < story.steps.length) showStep(next);
  }

  function endStory() {
    state.story = null;
    state.step = 0;
    $("story").value = "";
    $("story-bar").hidden = true;
    network.unselectAll();
    applyFilters({ quiet: true });
    showIntro();
  }

  /** One step: its facts selected on the canvas and framed, their sentences in the panel. */
  function showStep(i) {
    const story = storiesById.get(state.story);
    const step = story.steps[i];
    state.step = i;
    current = null;
    $("story-bar").hidden = false;
    $("story-title").textContent = story.title;
    $("story-step").textContent = `step ${i + 1} of ${story.steps.length}`;
    $("story-text").textContent = step.text;
    $("story-prev").disabled = i === 0;
    $("story-next").disabled = i === story.steps.length - 1;
    openPanel();
    const ids = step.edges.filter((id) => shownEdges.has(id));
    const ends = Array.from(new Set(ids.flatMap((id) => [edgesById.get(id).from, edgesById.get(id).to])));
    network.setSelection({ nodes: ends, edges: ids }, { highlightEdges: false });
    if (ends.length) {
      network.fit({ nodes: ends, animation: reduceMotion ? false : { duration: 500, easingFunction: "easeInOutQuad" } });
      if (network.getScale() > 1.4) network.moveTo({ scale: 1.4, animation: false });
    }
    const body = [
      el("p", { class: "kicker", text: `Story · step ${i + 1} of ${story.steps.length}` }),
      el("h2", { id: "panel-title", text: story.title }),
    ];
    if (i === 0 && story.summary) body.push(el("p", { class: "muted", text: story.summary }));
    body.push(el("p", { class: "story-text", text: step.text }));
    const nav = el("p", { class: "story-nav" });
    const back = el("button", { type: "button", text: "◀ Back" });
    back.disabled = i === 0;
    back.addEventListener("click", () => stepStory(-1));
    const next = el("button", { type: "button", text: "Next ▶" });
    next.disabled = i === story.steps.length - 1;
    next.addEventListener("click", () => stepStory(1));
    nav.append(back, next);
    body.push(nav);
    body.push(el("h3", { text: `The article says (${plural(step.edges.length, "fact", "facts")})` }));
    body.push(el("ol", { class: "fact-list" }, ...step.edges.map((id) => {
      const item = factItem(edgesById.get(id), null);
      item.classList.add("story-fact");
      item.dataset.edge = id;
      return item;
    })));
    $("panel-body").replaceChildren(...body);
    $("panel").scrollTop = 0;
    openPanel();
    saveState();
  }

  // ------------------------------------------------------------------ the table of facts

  let tableRows = [];

  function fillTable() {
    const q = $("table-filter").value.trim().toLowerCase();
    const rows = [];
    const order = data.edges.filter((e) => shownEdges.has(e.id)).sort((a, b) =>
      (kindOrder.get(relationOf(a).kind) - kindOrder.get(relationOf(b).kind)) ||
      nodesById.get(a.from).label.localeCompare(nodesById.get(b.from).label) ||
      nodesById.get(a.to).label.localeCompare(nodesById.get(b.to).label));
    for (const e of order) {
      const from = nodesById.get(e.from).label, to = nodesById.get(e.to).label;
      const quotes = (e.ev || []).map((i) => data.evidence[i].exact);
      const quals = qualifierTexts(e);
      const text = [from, factLabel(e), to, ...quals, ...quotes].join(" ").toLowerCase();
      if (q && !text.includes(q)) continue;
      const summary = `${from} ${factLabel(e)} ${to}`;
      const row = el("tr", { tabindex: "-1", "data-edge": e.id, "aria-label": summary + (quals.length ? ", " + quals.join(", ") : ""), class: fadedEdges.has(e.id) ? "general" : null },
        el("td", { text: from }), el("td", { text: factLabel(e) }), el("td", { text: to }),
        el("td", { text: quals.join("; ") }), el("td", { class: "quote", text: quotes.map((x) => "“" + x + "”").join(" ") }));
      rows.push(row);
    }
    if (rows.length) rows[0].tabIndex = 0;
    $("table-body").replaceChildren(...rows);
    tableRows = rows;
    $("table-count").textContent = `${plural(rows.length, "fact", "facts")}`;
  }

  function buildTable() {
    $("view-toggle").addEventListener("click", () => setTable(!state.table));
    $("skip-table").addEventListener("click", (event) => {
      event.preventDefault();
      setTable(true);
      $("table-filter").focus();
    });
    $("table-filter").addEventListener("input", fillTable);
    const body = $("table-body");
    body.addEventListener("keydown", (event) => {
      const row = event.target.closest("tr");
      if (!row) return;
      const i = tableRows.indexOf(row);
      let to = null;
      if (event.key === "ArrowDown") to = i + 1;
      else if (event.key === "ArrowUp") to = i - 1;
      else if (event.key === "Home") to = 0;
      else if (event.key === "End") to = tableRows.length - 1;
      else if (event.key === "PageDown") to = i + 10;
      else if (event.key === "PageUp") to = i - 10;
      else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        showEdge(row.dataset.edge);
        return;
      }
      if (to === null) return;
      event.preventDefault();
      focusRow(Math.max(0, Math.min(tableRows.length - 1, to)));
    });
    body.addEventListener("click", (event) => {
      const row = event.target.closest("tr");
      if (row) {
        focusRow(tableRows.indexOf(row));
        showEdge(row.dataset.edge);
      }
    });
  }

  function focusRow(i) {
    const row = tableRows[i];
    if (!row) return;
    for (const r of tableRows) if (r.tabIndex === 0) r.tabIndex = -1;
    row.tabIndex = 0;
    row.focus();
  }

  function setTable(on) {
    state.table = on;
    $("table-view").hidden = !on;
    $("graph").setAttribute("aria-hidden", on ? "true" : "false");
    $("view-toggle").setAttribute("aria-pressed", String(on));
    $("view-toggle").textContent = on ? "Graph" : "Table";
    $("graph-wrap").classList.toggle("table-mode", on);
    if (on) fillTable();
    saveState();
  }

  // ------------------------------------------------------------------ search

  const names = []; // [lower-case name, node id]: labels, other names, then ids
  for (const n of data.nodes) {
    names.push([n.label.toLowerCase(), n.id]);
    for (const a of n.alt || []) names.push([a.toLowerCase(), n.id]);
  }
  for (const n of data.nodes) names.push([localName(n.id).toLowerCase(), n.id]);

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
    $("search").addEventListener("keydown", (event) => {
      // Escape closes the panel, and leaves what was typed (a search box would clear it)
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closePanel();
      }
    });
  }

  function find(query) {
    const q = query.trim().toLowerCase();
    if (!q) return null;
    if (nodesById.has(query.trim())) return query.trim();
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
    if (!populationNote) setStatus("");
    if (withPanel) showNode(id);
    network.selectNodes([id]);
    network.focus(id, {
      scale: Math.max(network.getScale(), 1.0),
      animation: reduceMotion ? false : { duration: 600, easingFunction: "easeInOutQuad" },
    });
  }

  function resetFilters() {
    state.population = "";
    state.general = false;
    state.kinds = new Set(data.kinds.map((k) => k.label));
    state.folded = new Set();
    $("population").value = "";
    for (const box of document.querySelectorAll("#kinds input, #groups input")) box.checked = true;
    applyFilters();
  }

  // ------------------------------------------------------------------ the network

  const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  const options = {
    autoResize: true,
    layout: { improvedLayout: false, randomSeed: 7 },
    nodes: {
      borderWidth: 2,
      borderWidthSelected: 4,
      font: { size: 20, face: FONT, color: "#1d2433", strokeWidth: 5, strokeColor: "#ffffff" },
      // size grows with the number of facts, and so does the label (labelSizes())
      scaling: { min: 14, max: 56, label: { enabled: big, min: 20, max: 46, maxVisible: 36, drawThreshold: big ? 6 : 9 } },
    },
    edges: {
      arrows: { to: { enabled: true, scaleFactor: 0.7 } },
      // a big graph's thousands of edges stay light, so that its nodes show through
      color: { color: EDGE_COLOUR, highlight: "#1d2433", hover: "#334155", inherit: false },
      width: big ? 0.8 : 1.5,
      selectionWidth: 2,
      hoverWidth: 1,
      font: { size: 16, face: FONT, color: "#475569", strokeWidth: 5, strokeColor: "#ffffff", align: "middle" },
      smooth: data.layout.smooth ? { enabled: true, type: "continuous", roundness: 0.3 } : false,
      scaling: { label: { drawThreshold: 8 } },
    },
    physics: {
      enabled: data.layout.settle,
      solver: "forceAtlas2Based",
      forceAtlas2Based: { gravitationalConstant: -160, centralGravity: 0.008, springLength: 190,
        springConstant: 0.04, damping: 0.5, avoidOverlap: 1 },
      maxVelocity: 60,
      stabilization: { enabled: data.layout.settle, iterations: data.layout.iterations, updateInterval: 50, fit: true },
    },
    interaction: {
      hover: !touch,
      tooltipDelay: 150,
      hideEdgesOnDrag: big,
      hideEdgesOnZoom: big,
      keyboard: { enabled: false },
      multiselect: false,
      navigationButtons: false,
    },
  };

  // the introduction opens beside the graph on a wide screen only: elsewhere the graph comes first
  if (window.matchMedia("(max-width: 1399px)").matches) $("main").classList.remove("with-panel");
  let network = null;
  const container = $("graph");
  network = new vis.Network(container, { nodes: nodeView, edges: edgeView }, options);
  window.network = network;
  performance.mark("kg:network");

  /** Readable labels. On a graph of up to a few hundred entities, the labels of the
   * most connected entities are drawn at least MIN_LABEL_PX high on the screen (times
   * the text size, and larger when presenting) whatever the zoom, as many as fit
   * without covering each other; the others keep their size in the graph (shown as you
   * zoom in). A big graph keeps vis-network's scaling: small labels appear as you zoom. */
  const maxDeg = Math.max(1, ...data.nodes.map((n) => n.deg));
  const baseFont = (n) => 20 + 26 * Math.sqrt(n.deg / maxDeg);
  const byDegree = data.nodes.slice().sort((a, b) => b.deg - a.deg || a.label.length - b.label.length);
  const fontNow = new Map();
  let labelKey = "20.0,16.0"; // the options above: a big graph far out keeps them
  function labelSizes() {
    const k = state.textSize * (state.presenting ? 1.4 : 1);
    const scale = network.getScale();
    if (big) {
      const min = scale < 0.5 ? 20 * k : Math.max(20 * k, MIN_LABEL_PX * k / scale);
      const key = [min, 16 * k].map((v) => v.toFixed(1)).join(",");
      if (key === labelKey) return;
      labelKey = key;
      network.setOptions({
        nodes: { scaling: { label: { min, max: Math.max(46 * k, min * 1.5), maxVisible: 36 * k } } },
        edges: { font: { size: 16 * k } },
      });
      network.body.emitter.emit("_dataChanged"); // vis-network sizes labels on a data change
      return;
    }
    const minPx = MIN_LABEL_PX * k;
    const box = container.getBoundingClientRect();
    const taken = [];
    const updates = [];
    for (const n of byDegree) {
      if (!shownNodes.has(n.id)) continue;
      const base = baseFont(n) * k;
      let size = base;
      if (base * scale < minPx) {
        const node = network.body.nodes[n.id];
        const p = node && network.canvasToDOM({ x: node.x, y: node.y });
        if (p && p.x > 0 && p.y > 0 && p.x < box.width && p.y < box.height) {
          const w = n.label.length * minPx * 0.6 + 8, h = minPx * 1.5;
          const top = p.y + (node.shape.height || 20) * scale / 2;
          const r = [p.x - w / 2, top, p.x + w / 2, top + h];
          if (!taken.some((t) => r[0] < t[2] && t[0] < r[2] && r[1] < t[3] && t[1] < r[3])) {
            taken.push(r);
            size = minPx / scale;
          }
        }
      }
      if (Math.abs((fontNow.get(n.id) || 0) - size) > 0.05) {
        fontNow.set(n.id, size);
        updates.push({ id: n.id, font: { size } });
      }
    }
    if (updates.length) nodes.update(updates);
    const edgeSize = 16 * k;
    if (labelKey !== String(edgeSize)) {
      labelKey = String(edgeSize);
      network.setOptions({ edges: { font: { size: edgeSize } }, nodes: { scaling: { label: { enabled: false, maxVisible: 40 * k } } } });
    }
  }
  let labelTimer = null;
  const relabel = () => {
    clearTimeout(labelTimer);
    labelTimer = setTimeout(labelSizes, 60);
  };
  // after any change of the view (a zoom, a drag, an animation, moveTo from a script)
  let viewKey = "";
  network.on("afterDrawing", () => {
    if (!laidOut) return;
    const p = network.getViewPosition();
    const key = `${network.getScale().toFixed(4)},${Math.round(p.x)},${Math.round(p.y)}`;
    if (key !== viewKey) {
      viewKey = key;
      relabel();
    }
  });
  network.on("resize", relabel);

  const api = {
    ready: false, firstDrawMs: null, data, state, showNode, showEdge, search, applyFilters,
    startStory, stepStory, setTable, labelSizes,
  };
  window.kg = api;

  let drawn = false;
  let settled = !data.layout.settle;
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
    if (settled) afterLayout();
    markReady();
  });
  /** Entities in no fact (qualifier values such as night or winter) in rows under the rest. */
  function tidyIsolated() {
    const linked = data.nodes.filter((n) => n.deg > 0).map((n) => n.id);
    if (!isolated.length || !linked.length) return;
    const pos = Object.values(network.getPositions(linked));
    const minX = Math.min(...pos.map((p) => p.x)), maxX = Math.max(...pos.map((p) => p.x));
    const maxY = Math.max(...pos.map((p) => p.y));
    const step = 260, perRow = Math.max(1, Math.floor((maxX - minX) / step) + 1);
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

  /** Keep where the nodes drawn now are (vis-network's own storePositions fails on a
   * node the filters hide). */
  function storePositions() {
    const pos = network.getPositions();
    nodes.update(Object.entries(pos).map(([id, p]) => ({ id, x: p.x, y: p.y })));
  }

  /** Folded-group nodes sit where their members ended up. */
  function placeGroups() {
    groups.forEach((g, i) => {
      const pos = Object.values(network.getPositions(g.members));
      if (!pos.length) return;
      nodes.update({ id: `group:${i}`, x: pos.reduce((s, p) => s + p.x, 0) / pos.length,
        y: pos.reduce((s, p) => s + p.y, 0) / pos.length });
    });
  }

  let laidOut = false;
  function afterLayout() {
    if (laidOut) return;
    laidOut = true;
    if (!data.layout.settle && !big) tidyIsolated();
    placeGroups();
    restoreState();
    if (!current && !state.story && !big) fitAll(false);
    labelSizes();
  }

  network.once("stabilizationIterationsDone", () => {
    network.setOptions({ physics: { enabled: false } });
    physicsOn = false;
    tidyIsolated();
    fitAll(false);
    $("physics").checked = false;
    settled = true;
    if (drawn) afterLayout();
    markReady();
  });

  network.on("dragEnd", (params) => {
    if (!params.nodes.length || physicsOn) return;
    const moved = network.getPositions(params.nodes);
    nodes.update(params.nodes.map((id) => ({ id, x: moved[id].x, y: moved[id].y })));
  });

  network.on("click", (params) => {
    const id = params.nodes[0];
    if (id && id.startsWith("group:")) setFolded(Number(id.slice(6)), false);
    else if (id) showNode(id);
    else if (params.edges.length && !params.edges[0].startsWith("group-edge:")) showEdge(params.edges[0]);
  });

  // ------------------------------------------------------------------ the controls

  $("physics").checked = false;
  $("physics").addEventListener("change", (event) => {
    const on = event.target.checked;
    if (!on) storePositions();
    physicsOn = on;
    network.setOptions({ physics: { enabled: on, stabilization: { enabled: false } } });
    if (on && big) setStatus("Physics on a graph this size is slow: turn it off to keep the page responsive.");
    else if (!populationNote) setStatus("");
  });
  /** The whole graph in view, a little smaller than the canvas so that the tools do not cover it. */
  function fitAll(animate) {
    network.fit({ animation: false });
    const view = network.getViewPosition(), scale = network.getScale() * 0.92;
    network.moveTo({ position: { x: view.x, y: view.y - 14 / scale }, scale,
      animation: reduceMotion || animate === false ? false : { duration: 400, easingFunction: "easeInOutQuad" } });
  }
  $("reset").addEventListener("click", () => {
    network.unselectAll();
    fitAll();
    $("search").value = "";
    if (!populationNote) setStatus("");
    if (!state.story) showIntro();
  });
  function zoom(factor) {
    network.moveTo({ scale: network.getScale() * factor, animation: reduceMotion ? false : { duration: 200, easingFunction: "easeInOutQuad" } });
    clearTimeout(labelTimer);
    labelTimer = setTimeout(labelSizes, 250);
  }
  function pan(dx, dy) {
    const p = network.getViewPosition(), s = network.getScale();
    network.moveTo({ position: { x: p.x + dx / s, y: p.y + dy / s }, animation: false });
  }
  $("zoom-in").addEventListener("click", () => zoom(1.3));
  $("zoom-out").addEventListener("click", () => zoom(1 / 1.3));
  $("text-size").addEventListener("input", () => {
    state.textSize = Number($("text-size").value);
    labelSizes();
  });
  $("panel-close").addEventListener("click", closePanel);
  document.querySelector('.skip-links a[href="#panel"]').addEventListener("click", (event) => {
    event.preventDefault();
    openPanel();
    $("panel").focus();
  });
  document.querySelector('.skip-links a[href="#graph"]').addEventListener("click", (event) => {
    event.preventDefault();
    if (state.table) setTable(false);
    container.focus();
  });

  $("present").addEventListener("click", () => setPresenting(!state.presenting));
  function setPresenting(on) {
    state.presenting = on;
    document.body.classList.toggle("presenting", on);
    document.documentElement.classList.toggle("presenting", on); // larger text everywhere
    $("present").setAttribute("aria-pressed", String(on));
    if (on && document.documentElement.requestFullscreen && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(() => {});
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    }
    network.setSize("100%", "100%");
    labelSizes();
    setTimeout(() => { network.setSize("100%", "100%"); labelSizes(); }, 200); // after full screen
  }
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement && state.presenting) setPresenting(false);
  });

  /** The canvas as it is, on white, saved as a PNG file (no request: a data: URL). */
  function savePng() {
    const canvas = container.querySelector("canvas");
    const copy = document.createElement("canvas");
    copy.width = canvas.width;
    copy.height = canvas.height;
    const ctx = copy.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, copy.width, copy.height);
    ctx.drawImage(canvas, 0, 0);
    const a = el("a", { href: copy.toDataURL("image/png"), download: "graph.png" });
    document.body.append(a);
    a.click();
    a.remove();
  }
  $("png").addEventListener("click", savePng);
  $("print").addEventListener("click", () => window.print());

  // ------------------------------------------------------------------ the keyboard

  const typing = (t) => t && (t.closest("input, select, textarea, [contenteditable], #table-view tbody") !== null);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      // closes the panel, only (a story, the search and the filters stay)
      closePanel();
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (state.story && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
      event.preventDefault();
      stepStory(event.key === "ArrowRight" ? 1 : -1);
      return;
    }
    if (state.table) return;
    const moves = { ArrowLeft: [-80, 0], ArrowRight: [80, 0], ArrowUp: [0, -80], ArrowDown: [0, 80] };
    if (moves[event.key] && (event.target === container || event.target === document.body)) {
      event.preventDefault();
      pan(...moves[event.key]);
    } else if (event.key === "+" || event.key === "=") {
      event.preventDefault();
      zoom(1.3);
    } else if (event.key === "-" || event.key === "_") {
      event.preventDefault();
      zoom(1 / 1.3);
    } else if (event.key === "0") {
      fitAll();
    }
  });

  // ------------------------------------------------------------------ the address

  /** The view in the fragment: entity or fact, population, relations, folded groups,
   * story and step, table. */
  let restoring = false;
  function saveState() {
    if (restoring || !laidOut) return;
    const p = new URLSearchParams();
    if (current && current.node) p.set("entity", shortId(current.id));
    else if (current) {
      const e = edgesById.get(current.id);
      p.set("fact", e.fact || e.id);
    }
    if (state.population !== "") p.set("population", shortId(data.populations[Number(state.population)].iri));
    if (state.general) p.set("everyone", "1");
    if (state.kinds.size !== data.kinds.length) p.set("relations", Array.from(state.kinds).join(","));
    if (state.folded.size) p.set("folded", Array.from(state.folded).map((i) => groups[i].kind).join(","));
    if (state.story) {
      p.set("story", state.story);
      p.set("step", String(state.step + 1));
    }
    if (state.table) p.set("view", "table");
    const hash = p.toString().replace(/\+/g, "%20");
    const url = location.href.replace(/#.*$/, "") + (hash ? "#" + hash : "");
    if (url !== location.href) history.replaceState(null, "", url);
  }

  /** The local name of an IRI when it names one entity only, else the IRI. */
  function shortId(iri) {
    const local = localName(iri);
    const same = data.nodes.filter((n) => localName(n.id) === local).length;
    return same === 1 ? local : iri;
  }

  function restoreState() {
    if (!location.hash) return;
    const p = new URLSearchParams(location.hash.replace(/^#/, ""));
    restoring = true;
    try {
      const pop = p.get("population");
      state.population = "";
      if (pop) {
        const want = pop.toLowerCase();
        const i = data.populations.findIndex((x) => x.option &&
          (x.iri === pop || localName(x.iri).toLowerCase() === want || x.label.toLowerCase() === want));
        if (i >= 0) state.population = String(i);
      }
      $("population").value = state.population;
      state.general = p.get("everyone") === "1";
      if (p.has("relations")) {
        const wanted = new Set(p.get("relations").split(",").filter(Boolean));
        state.kinds = new Set(data.kinds.map((k) => k.label).filter((k) => wanted.has(k)));
      } else {
        state.kinds = new Set(data.kinds.map((k) => k.label));
      }
      for (const box of $("kinds").querySelectorAll("input")) box.checked = state.kinds.has(box.value);
      const folded = new Set((p.get("folded") || "").split(","));
      state.folded = new Set(groups.map((g, i) => i).filter((i) => folded.has(groups[i].kind)));
      groups.forEach((g, i) => { $(`group-box-${i}`).checked = !state.folded.has(i); });
      const story = p.get("story");
      state.story = story && storiesById.has(story) ? story : null;
      applyFilters({ quiet: true });
      if (p.get("view") === "table") setTable(true);
      if (state.story) {
        startStory(state.story, Math.max(0, (Number(p.get("step")) || 1) - 1));
      } else if (p.get("entity")) {
        const id = find(p.get("entity"));
        if (id && shownNodes.has(id)) focusNode(id, true);
        else if (id) setStatus(`“${nodesById.get(id).label}” is hidden by the filters.`);
      } else if (p.get("fact")) {
        const e = edgesByFact.get(p.get("fact")) || edgesById.get(p.get("fact"));
        if (e && shownEdges.has(e.id)) {
          showEdge(e.id);
          network.setSelection({ nodes: [e.from, e.to], edges: [e.id] });
        }
      }
    } finally {
      restoring = false;
    }
    saveState();
  }
  window.addEventListener("hashchange", restoreState);

  // ------------------------------------------------------------------ start

  if (window.matchMedia("(max-width: 1000px)").matches) {
    // a narrow screen: filters and legend folded, so that the graph comes first
    $("relations-box").open = false;
    $("legend-box").open = false;
    $("groups-box").open = false;
  }
  buildFilters();
  buildLegend();
  buildSearch();
  buildStories();
  buildTable();
  updateShown(); // everything is shown: the filters run when the reader (or the address) asks
  if (!data.nodes.length) {
    $("empty").hidden = false;
    drawn = settled = true;
    laidOut = true;
    markReady();
  }
  const counts = data.counts;
  if (counts.nodes < counts.totalNodes) {
    setStatus(`Showing the ${counts.nodes.toLocaleString("en")} most connected of ` +
      `${plural(counts.totalNodes, "entity", "entities")}. Draw fewer with a subgraph, or more with kg viz --max-nodes.`);
  }
})();
