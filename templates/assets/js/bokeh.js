/* bokeh.js: every use of BokehJS beyond its public model API, in one place.
 *
 * Checked against BokehJS 3.9.2, the pin in requirements.txt (the site ships bokeh/bokeh-3.9.2.min.js). On an
 * upgrade, read this file against the new release: bokeh.missing() lists what the loaded bundle no longer
 * provides, and tests/test_browser.py::test_bokeh_provides_what_the_page_script_uses asserts, on a live page,
 * that it lists nothing. (The Python side's counterpart is lossarticle/bokeh_internals.py.)
 *
 * The other parts use only Bokeh's public model API: a source's data, a renderer's visible, a title's text, a
 * range's start and end, a colour mapper's low and high, a colour bar's ticker and major_label_overrides, a
 * document's get_model_by_name. Everything they need of a plot's *view* (its frame, its canvases, its repaints)
 * goes through the functions below.
 */
const bokeh = {
  checkedAgainst: "3.9.2",
  tuned: { cssValue: false, fontSize: false },  // which of tune()'s two shortcuts found what they replace

  // Two of Bokeh's style reads, answered from what we know (pixel-identical plots).
  tune() {
    if (!window.Bokeh) return;
    if (Bokeh.set_log_level) Bokeh.set_log_level("warn");
    try {
      // Bokeh 3.9 asks getComputedStyle for a --bk-* CSS variable of every visual at every paint, to let a page
      // theme plots from CSS. We set none, so the answer is always "not set": answering at once saves a style
      // read per visual (the first figure became interactive 0.1-0.2 s sooner in the issue 12 prototype).
      const { VisualProperties } = Bokeh.require("core/visuals/visual");
      if (VisualProperties && VisualProperties.prototype._get_css_value) {
        VisualProperties.prototype._get_css_value = () => "";
        this.tuned.cssValue = true;
      }
      // A plot reads its element's computed font size (getComputedStyle, a forced style recalculation in the
      // middle of building the plot) for every text it measures, to resolve em sizes; ours are all in px. Read
      // once per plot, again after a window resize (a media query may change it): the first figure's embedding
      // took 25 % less main thread.
      const { PlotView } = Bokeh.require("models/plots/plot_canvas");
      const own = Object.getOwnPropertyDescriptor(PlotView.prototype, "base_font_size");
      if (own && own.get) {
        let generation = 0;
        const measured = new WeakMap();  // plot view -> [generation, font size]
        window.addEventListener("resize", () => { generation++; });
        Object.defineProperty(PlotView.prototype, "base_font_size", { configurable: true, get() {
          let known = measured.get(this);
          if (!known || known[0] !== generation) measured.set(this, known = [generation, own.get.call(this)]);
          return known[1];
        } });
        this.tuned.fontSize = true;
      }
    } catch (error) {
      // Another BokehJS build without these modules: keep its own behaviour (missing() says so).
    }
  },

  // base64 of gzipped bytes, as BokehJS decodes its own arrays (it ships fflate; we ship no second inflater).
  gunzipBase64(text) {
    return new Uint8Array(Bokeh.require("core/util/buffer").base64_to_buffer(text));
  },

  // A float32 grid (rows by columns) as an image glyph's data.
  float32Grid(values, shape) {
    return Bokeh.require("core/util/ndarray").ndarray(values, { dtype: "float32", shape });
  },

  // The height a json_item's plot asks for: what its element keeps before Bokeh draws it.
  itemHeight(item) {
    return item.doc.roots[0].attributes.height;
  },

  // Embeds json_items as ONE document, each root in its element: Bokeh's per-document work (a Document, a
  // notifications view, their style sheets) once, not once per panel. Resolves to the plot view of each item,
  // in order, and remove(), which takes the views and the document away again.
  async embedItems(items, elements, docid) {
    const first = items[0].doc;
    const doc = { version: first.version, title: "", config: first.config, roots: [] };
    const roots = {}, root_ids = [];
    items.forEach((item, i) => {
      doc.roots.push(...item.doc.roots);
      roots[item.root_id] = elements[i].id;
      root_ids.push(item.root_id);
    });
    const [manager] = await Bokeh.embed.embed_items({ [docid]: doc }, [{ docid, roots, root_ids }]);
    const byId = new Map(manager.roots.map((plotView) => [plotView.model.id, plotView]));
    const plotViews = items.map((item) => byId.get(item.root_id));
    const remove = () => {
      const documents = new Set(plotViews.map((plotView) => plotView.model.document));
      for (const plotView of [...manager.roots]) plotView.remove();
      for (const document of documents) {
        const i = Array.isArray(Bokeh.documents) ? Bokeh.documents.indexOf(document) : -1;
        if (i >= 0) Bokeh.documents.splice(i, 1);
      }
    };
    return { plotViews, remove };
  },

  plotOf: (plotView) => plotView.model,
  documentOf: (plotView) => plotView.model.document,

  // A plot's frame: bbox {left, top, right, bottom, width, height} in the canvas's pixels, and x_scale, y_scale
  // with compute (data to pixel), v_compute (arrays), invert (pixel to data) and source_range {start, end}.
  frame: (plotView) => plotView.frame,
  canvasRect: (plotView) => plotView.canvas_view.el.getBoundingClientRect(),
  // Where to put something drawn beneath the plot's see-through frame.
  underlays: (plotView) => plotView.canvas_view.underlays_el,
  onRepaint(plotView, listener) { plotView.repainted.connect(listener); },
  // Resolves once the plots have painted everything asked of them and a frame went by without more. A view's
  // ready is a promise chain Bokeh replaces as work is added: a data change first updates the glyph (async),
  // which only then asks for a paint, chained onto a newer ready; and a paint can resize a legend, whose resize
  // observer (run in the next frame's rendering, after its animation frame callbacks) asks for one more.
  async painted(plotViews) {
    const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    for (;;) {
      const waited = plotViews.map((plotView) => plotView.ready);
      await Promise.all(waited);
      await nextFrame();
      await nextFrame();  // the first frame's resize observers have run
      if (plotViews.every((plotView, i) => plotView.ready === waited[i])) return;
    }
  },

  // Bokeh makes every plot's event layer a tab stop, with no name: a keyboard reader would meet a dozen
  // silent stops per figure (the controls above are the way in). Its overlay canvas stays empty: nothing of
  // ours is at Bokeh's "overlay" level and no tool draws there, so it is left out of rendering.
  quiet(plotView) {
    plotView.canvas_view.events_el.tabIndex = -1;
    plotView.canvas_view.overlays.el.style.display = "none";
  },

  // The canvases of a plot's legends' line samples, which Bokeh builds again when it renders a legend again.
  legendSamples(plotView) {
    const found = [];
    for (const renderer of plotView.computed_renderer_views || []) {
      const root = renderer.model && renderer.model.type === "Legend" ? renderer.shadow_el : null;
      if (root) found.push(...root.querySelectorAll("canvas.bk-glyph"));
    }
    return found;
  },

  // What this file relies on and the loaded BokehJS lacks, checked on live plot views (one with a legend).
  missing(plotViews) {
    const gaps = [];
    const check = (what, holds) => {
      try { if (!holds()) gaps.push(what); } catch (error) { gaps.push(what + " (" + error.message + ")"); }
    };
    const fn = (f) => typeof f === "function", number = (v) => typeof v === "number";
    check("tune: VisualProperties.prototype._get_css_value", () => this.tuned.cssValue);
    check("tune: PlotView.prototype.base_font_size getter", () => this.tuned.fontSize);
    check("core/util/buffer base64_to_buffer", () => fn(Bokeh.require("core/util/buffer").base64_to_buffer));
    check("core/util/ndarray ndarray", () => fn(Bokeh.require("core/util/ndarray").ndarray));
    check("Bokeh.embed.embed_items", () => fn(Bokeh.embed.embed_items));
    check("Bokeh.documents", () => Array.isArray(Bokeh.documents));
    for (const plotView of plotViews) {
      const { bbox, x_scale } = plotView.frame;
      check("view.model.id, .document", () => typeof plotView.model.id === "string" && !!plotView.model.document);
      check("view.frame.bbox", () => ["left", "top", "right", "bottom", "width", "height"]
        .every((side) => number(bbox[side])));
      check("view.frame.x_scale", () => fn(x_scale.compute) && fn(x_scale.v_compute) && fn(x_scale.invert)
        && number(x_scale.source_range.start) && number(x_scale.source_range.end));
      check("view.repainted.connect", () => fn(plotView.repainted.connect));
      check("view.ready", () => fn(plotView.ready.then));
      check("view.canvas_view elements", () => [plotView.canvas_view.el, plotView.canvas_view.underlays_el,
        plotView.canvas_view.events_el, plotView.canvas_view.overlays.el].every((el) => el instanceof HTMLElement));
    }
    check("Legend views' shadow_el with canvas.bk-glyph", () => plotViews.some((v) => this.legendSamples(v).length));
    return gaps;
  },
};
