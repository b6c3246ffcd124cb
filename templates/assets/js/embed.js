/* embed.js: a figure's spec into the page. Its grid of panels is laid out at once (a panel waiting for Bokeh
 * keeps its plot's height, so nothing moves when it arrives); its panels are embedded as Bokeh documents, the
 * ones the spec lists first, then the others; each panel's models are found by the names the spec gives.
 *
 * Uses bokeh.js, marks.js. Which figure embeds when is load.js's.
 */
let documents = 0;  // Bokeh documents this page embedded: each gets its own id

function drawn(canvas) {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
  return false;
}

function spareCanvases(plotView) {
  // Canvases Bokeh renders that never change, left out of rendering: each rendered canvas costs at every frame
  // (see Marker). A legend's line samples never change, so each becomes an image of itself once Bokeh has drawn
  // it. Run after every repaint: Bokeh builds new legend entries when it renders the legend again.
  for (const canvas of bokeh.legendSamples(plotView)) {
    if (canvas.style.display === "none" || !canvas.width || !drawn(canvas)) continue;
    const scale = window.devicePixelRatio || 1, image = new Image(canvas.width / scale, canvas.height / scale);
    image.src = canvas.toDataURL();
    image.alt = "";
    image.className = canvas.className;
    if (canvas.nextSibling && canvas.nextSibling.tagName === "IMG") canvas.nextSibling.remove();
    canvas.after(image);
    canvas.style.display = "none";
  }
}

// The models a panel's spec names (a tree of roles whose leaves are names), found in its Bokeh document: the
// same tree with models for names. A name the document lacks is an error, never a silent no-op.
function findModels(names, doc, panelKey) {
  if (typeof names === "string") {
    const model = doc.get_model_by_name(names);
    if (!model) throw new Error("panel " + panelKey + " has no Bokeh model named " + names);
    return model;
  }
  const found = {};
  for (const [role, inner] of Object.entries(names)) found[role] = findModels(inner, doc, panelKey);
  return found;
}

class Embedding {
  // ``key`` names the marks: the figure's slug, or "explorer".
  constructor(spec, plots, key) {
    this.spec = spec;
    this.key = key;
    this.panels = new Map();  // panel key -> {key, kind, plane, epochAxis, el, plotView, models}, once embedded
    this.rows = [];  // the grid's row elements
    this.first = [];  // {entry, el} of the panels the figure is interactive with (spec.first)
    this.later = [];  // {entry, el} of the others
    this.removers = [];  // one per Bokeh document embedded
    plots.replaceChildren();
    plots.classList.remove("la-plots--single", "la-plots--planes");
    plots.classList.add("la-plots--" + spec.layout_name);
    for (const row of spec.layout) {
      const rowEl = document.createElement("div");
      rowEl.className = "la-row la-row--" + row.columns;
      for (const cell of row.cells) {
        const cellEl = document.createElement("div");
        cellEl.className = "la-cell la-span-" + cell.span;
        for (const entry of cell.panels) {
          const el = document.createElement("div");
          el.className = "la-panel la-panel--" + entry.kind;
          el.id = plots.id + "-" + entry.key;
          el.style.minHeight = bokeh.itemHeight(spec.items[entry.key]) + "px";
          cellEl.appendChild(el);
          (spec.first.includes(entry.key) ? this.first : this.later).push({ entry, el });
        }
        rowEl.appendChild(cellEl);
      }
      plots.appendChild(rowEl);
      this.rows.push(rowEl);
    }
    this.laterEl = this.later.length ? this.later[0].el : plots;  // where the later panels begin
  }

  // Bokeh's views of every panel embedded so far.
  get plotViews() { return [...this.panels.values()].map((panel) => panel.plotView); }

  // The panels the spec does not list first; resolves to them once embedded.
  async embedLater() {
    return this.later.length ? this.embed(this.later) : [];
  }

  // Embeds ``batch`` as one Bokeh document; resolves to its panels.
  async embed(batch) {
    const items = batch.map(({ entry }) => this.spec.items[entry.key]);
    const { plotViews, remove } = await bokeh.embedItems(items, batch.map(({ el }) => el), "la-doc-" + (++documents));
    this.removers.push(remove);
    return batch.map(({ entry, el }, i) => {
      const plotView = plotViews[i];
      bokeh.quiet(plotView);
      spareCanvases(plotView);
      bokeh.onRepaint(plotView, () => spareCanvases(plotView));
      el.style.minHeight = "";
      const panel = { key: entry.key, kind: entry.kind, plane: entry.plane, epochAxis: entry.epoch_axis, el, plotView,
        models: findModels(entry.models, bokeh.documentOf(plotView), entry.key) };
      this.panels.set(entry.key, panel);
      mark("la:" + this.key + ":panel:" + entry.key);
      return panel;
    });
  }

  remove() {
    for (const remove of this.removers) remove();
    this.removers.length = 0;
    for (const row of this.rows) row.remove();
  }
}

// Lays out ``spec`` in ``plots`` and embeds the panels it lists first; resolves to the Embedding.
async function embedFigure(spec, plots, key) {
  const embedding = new Embedding(spec, plots, key);
  try {
    await embedding.embed(embedding.first);
  } catch (error) {
    embedding.remove();
    throw error;
  }
  return embedding;
}
