/* PROTOTYPE for issue 12 (not production code; see prototypes/issue12/README.md).
 * templates/assets/lossarticle.js plus switches read from the page's query string.
 *
 * lossarticle: drives the article's Bokeh figures from plain HTML controls.
 *
 * The page's CSP forbids eval, so no Bokeh CustomJS or widgets: each figure's
 * data arrives as figures/<slug>.js, which calls window.lossarticle.register,
 * and this file finds the Bokeh models by name and updates them in place.
 * Figures load when they come within a screen of the viewport.
 *
 * Milestones are left as User Timing marks named "la:<key>:<stage>" (key: the figure's
 * slug, or "explorer"), which DevTools shows and `generate.py bench` reads back:
 * request (figure script inserted), registered (fetched, parsed and run), embed
 * (Bokeh embedding starts), panel:<panel> (one Bokeh document rendered), embedded,
 * scene (data decoded, curves filled, first epoch drawn), ready. "la:script" marks
 * this file starting to run, i.e. BokehJS (deferred before it) done.
 */
(function () {
  "use strict";

  const mark = (name) => { if (window.performance && performance.mark) performance.mark(name); };
  mark("la:script");

  // PROTOTYPE switches, from the page's query string: ?layers=0|1&docs=panel|one&order=all|priority&queue=0|1&early=0|1&markers=canvas|html
  const FLAGS = new URLSearchParams(location.search);
  const LAYERS = FLAGS.get("layers") !== "0";
  const DOCS = FLAGS.get("docs") || "panel";
  const ORDER = FLAGS.get("order") || "all";
  const QUEUE = FLAGS.get("queue") === "1";
  const EARLY = FLAGS.get("early") === "1";
  const MARKERS = FLAGS.get("markers") || "canvas";
  const READOUT = FLAGS.get("readout") !== "0";
  const ARIA = FLAGS.get("aria") !== "0";
  const CV = FLAGS.get("cv") === "1";
  const FAR = FLAGS.get("far");  // e.g. "100%": figures farther than this from the viewport stop rendering
  const bokehReady = window.Bokeh ? Promise.resolve() : new Promise((resolve, reject) => {
    const tag = document.querySelector('script[src*="bokeh-"]');
    tag.addEventListener("load", () => resolve());
    tag.addEventListener("error", () => reject(new Error("could not load BokehJS")));
  });
  bokehReady.then(() => {
    mark("la:bokeh");
    if (Bokeh.set_log_level) Bokeh.set_log_level("warn");
    if (FLAGS.get("nocss") === "1") {
      // PROTOTYPE: Bokeh 3.9 reads a CSS variable (--bk-fill-color, ...) through getComputedStyle
      // for every visual at every paint; we style nothing that way, so answer "not set" at once.
      Bokeh.require("core/visuals/visual").VisualProperties.prototype._get_css_value = () => "";
    }
  });

  const NEAR = "100% 0px 100% 0px";  // start loading one viewport ahead
  const MIN_RATE = 30, MAX_RATE = 100, PLAY_SECONDS = 12;  // epochs per second while playing
  const THIN = "\u202f";

  const specs = new Map();     // slug -> spec, as registered by figures/<slug>.js
  const waiting = new Map();   // slug -> [{resolve, reject}]
  const requested = new Set(); // slugs whose script tag was inserted
  const players = new Map();   // figure slug or "explorer" -> Player


  /* ------------------------------------------------------------ loading */

  function register(slug, spec) {
    mark("la:" + slug + ":registered");
    specs.set(slug, spec);
    for (const w of waiting.get(slug) || []) w.resolve(spec);
    waiting.delete(slug);
  }

  function loadSpec(slug, src) {
    if (specs.has(slug)) return Promise.resolve(specs.get(slug));
    const promise = new Promise((resolve, reject) => {
      if (!waiting.has(slug)) waiting.set(slug, []);
      waiting.get(slug).push({ resolve, reject });
    });
    if (!requested.has(slug)) {
      requested.add(slug);
      mark("la:" + slug + ":request");
      const tag = document.createElement("script");
      tag.src = src;
      tag.async = true;
      tag.addEventListener("error", () => {
        requested.delete(slug);
        for (const w of waiting.get(slug) || []) w.reject(new Error("could not load " + src));
        waiting.delete(slug);
      });
      document.head.appendChild(tag);
    }
    return promise;
  }

  /* ------------------------------------------------------------ numbers and words (mirror figures.py) */

  function formatLoss(v) {
    if (!Number.isFinite(v)) return v > 0 ? "∞" : "—";
    if (v >= 0.001) return v.toFixed(Math.max(0, 1 - Math.floor(Math.log10(v))));
    const [mantissa, exponent] = v.toExponential(1).split("e");
    return mantissa + "e" + parseInt(exponent, 10);
  }

  function formatPercent(fraction) {
    return Number.isFinite(fraction) ? Math.round(100 * fraction) + THIN + "%" : "—";
  }

  function readout(run, epoch, last, named) {
    const parts = ["epoch " + epoch + " / " + last];
    if (named) parts.push(run.name);
    if (epoch > run.epochs) return parts.concat("diverged at epoch " + run.epochs).join(" · ");
    parts.push("loss " + formatLoss(run.loss[epoch]), "train " + formatPercent(run.trainAcc[epoch]),
      "val " + formatPercent(run.valAcc[epoch]));
    if (run.diverged && epoch === run.epochs) parts.push("training diverged at epoch " + run.epochs);
    return parts.join(" · ");
  }

  /* ------------------------------------------------------------ data preparation */

  const series = (list) => Float64Array.from(list, (v) => (v === null ? NaN : v));
  const percent = (list) => Float64Array.from(list, (v) => (v === null ? NaN : 100 * v));

  function gunzipBase64(text) {
    // BokehJS ships fflate for its own arrays; reuse it rather than ship a second inflater.
    return new Uint8Array(Bokeh.require("core/util/buffer").base64_to_buffer(text));
  }

  function prepareRun(raw, spec) {
    const last = spec.max_epoch;
    const frameAt = new Int16Array(last + 1);  // snapshot shown at each epoch: the latest one not after it
    for (let e = 0, f = 0; e <= last; e++) {
      while (f + 1 < raw.frames.length && raw.frames[f + 1] <= e) f++;
      frameAt[e] = f;
    }
    const paths = {};
    for (const plane of spec.planes) {
      const p = raw.paths[plane];
      paths[plane] = { x: series(p.x), y: series(p.y), surface: series(p.surface_loss), distance: series(p.distance) };
    }
    return {
      name: raw.name, colour: raw.colour, epochs: raw.epochs, diverged: raw.diverged,
      loss: series(raw.loss), trainAcc: series(raw.train_acc), valAcc: series(raw.val_acc),
      trainPct: percent(raw.train_acc), valPct: percent(raw.val_acc),
      frameAt, codes: gunzipBase64(raw.regions), paths,
    };
  }

  function colourLut(classes, bits) {
    // code = label << bits | confidence; low confidence fades to white. Pixels are 0xAABBGGRR.
    const lut = new Uint32Array(256), levels = (1 << bits) - 1;
    classes.forEach((hex, label) => {
      const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      for (let c = 0; c <= levels; c++) {
        const weight = 0.1 + 0.55 * (c / levels);
        const [r, g, b] = rgb.map((v) => Math.round(255 + (v - 255) * weight));
        lut[(label << bits) | c] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
      }
    });
    return lut;
  }

  const epochAxis = (n) => Float64Array.from({ length: n }, (_, i) => i);

  /* ------------------------------------------------------------ HTML overlays on Bokeh plots */

  function overlayLine(panel) {
    // A dashed vertical line over a plot's frame at data x; positions come from Bokeh's own
    // scales and frame box, so it lands where a glyph at that x would.
    const line = document.createElement("div");
    line.className = "la-marker";
    line.setAttribute("aria-hidden", "true");
    panel.el.appendChild(line);
    let last = null;
    return {
      moveTo(x) {
        last = x;
        const { frame } = panel.view;
        if (!frame || !frame.bbox) return;
        const { top, height } = frame.bbox;
        const left = frame.x_scale.compute(x);
        line.style.transform = "translate(" + left.toFixed(1) + "px, " + top.toFixed(1) + "px)";
        line.style.height = height.toFixed(1) + "px";
      },
      refresh() { if (last !== null) this.moveTo(last); },
    };
  }

  function overlayDots(panel, colours) {
    // One dot per run at (epoch, loss): the current point on the loss curve, as HTML for the
    // same reason as the markers.
    const dots = colours.map((colour) => {
      const dot = document.createElement("div");
      dot.className = "la-dot";
      dot.setAttribute("aria-hidden", "true");
      dot.style.backgroundColor = colour;
      panel.el.appendChild(dot);
      return dot;
    });
    let last = null;
    return {
      moveTo(xs, ys) {
        last = [xs, ys];
        const { frame } = panel.view;
        if (!frame || !frame.bbox) return;
        dots.forEach((dot, i) => {
          const sx = frame.x_scale.compute(xs[i]), sy = frame.y_scale.compute(ys[i]);
          const inside = Number.isFinite(sy) && sy >= frame.bbox.top && sy <= frame.bbox.bottom;
          dot.style.visibility = inside ? "visible" : "hidden";
          dot.style.transform = "translate(" + sx.toFixed(1) + "px, " + (inside ? sy : 0).toFixed(1) + "px)";
        });
      },
      refresh() { if (last !== null) this.moveTo(...last); },
    };
  }

  /* ------------------------------------------------------------ a figure's Bokeh models, moved in place */

  class Scene {
    get layered() { return false; }

    constructor(spec, find, panels) {
      this.spec = spec;
      this.find = find;
      this.panels = panels;
      this.runs = spec.runs.map((r) => prepareRun(r, spec));
      this.named = this.runs.length > 1;
      this.lut = colourLut(spec.classes, spec.confidence_bits);
      const [h, w] = spec.region_shape;
      this.pixels = h * w;
      const { ndarray } = Bokeh.require("core/util/ndarray");
      this.image = ndarray(new Uint32Array(h * w), { dtype: "uint32", shape: [h, w] });
      this.regions = find("regions-image");
      this.regions.data = { image: [this.image] };
      this.fillCurves();
      this.paths = spec.planes.map((plane) => ({
        plane, now: find("now-" + plane), lines: this.runs.map((r) => find("path-" + plane + "-" + r.name)),
        gapRecorded: find("gap-recorded-" + plane), gapSurface: find("gap-surface-" + plane),
        distance: find("distance-" + plane),
        gapTitle: find("gap-title-" + plane), distanceTitle: find("distance-title-" + plane),
      }));
      // The epoch markers move on every step. As Bokeh glyphs each one cost a repaint of its
      // plot (2-4 ms each on a CPU renderer); as HTML lines over the plots they only move.
      const markerPanels = ["loss", "accuracy"].concat(...spec.planes.map((p) => ["gap-" + p, "distance-" + p]));
      this.colours = this.runs.map((r) => r.colour);
      if (!this.layered) {
        this.markers = markerPanels.map((key) => overlayLine(panels.get(key)));
        this.lossNow = overlayDots(panels.get("loss"), this.colours);
        this.overlays = [...this.markers, this.lossNow];  // put back in place after a resize
      }
      this.shown = this.runs.map(() => -1);  // path length drawn per run; skip unchanged runs
      this.frame = -1;
      this.epoch = spec.max_epoch;
      this.setFocus(0);
    }

    fillCurves() {
      for (const run of this.runs) {
        const x = epochAxis(run.loss.length);
        this.find("loss-" + run.name).data = { x, y: run.loss };
        this.find("train-acc-" + run.name).data = { x, y: run.trainPct };
        this.find("val-acc-" + run.name).data = { x, y: run.valPct };
      }
    }

    setFocus(index) {
      this.focus = index;
      const run = this.runs[index], x = epochAxis(run.loss.length);
      for (const p of this.paths) {
        const path = run.paths[p.plane];
        p.gapRecorded.data = { x, y: run.loss };
        p.gapSurface.data = { x, y: path.surface };
        p.distance.data = { x, y: path.distance };
        if (this.named) {
          p.gapTitle.text = this.spec.titles.gap + " (" + run.name + ")";
          p.distanceTitle.text = this.spec.titles.distance + " (" + run.name + ")";
        }
      }
      this.frame = -1;
      this.setEpoch(this.epoch);
    }

    setEpoch(epoch) {
      this.epoch = epoch;
      const at = this.runs.map((r) => Math.min(epoch, r.epochs));
      this.drawRegions(this.runs[this.focus].frameAt[epoch]);
      for (const p of this.paths) this.drawPaths(p, at);
      this.lossNow.moveTo(at, at.map((e, i) => this.runs[i].loss[e]));
      for (const marker of this.markers) marker.moveTo(epoch);
      for (let i = 0; i < at.length; i++) this.shown[i] = at[i];
    }

    drawPaths(p, at) {
      const xs = [], ys = [];
      this.runs.forEach((run, i) => {
        const path = run.paths[p.plane], end = at[i] + 1;
        if (this.shown[i] !== at[i]) p.lines[i].data = { x: path.x.subarray(0, end), y: path.y.subarray(0, end) };
        xs.push(path.x[at[i]]);
        ys.push(path.y[at[i]]);
      });
      p.now.data = { x: xs, y: ys, colour: this.colours };
    }

    drawRegions(frame) {
      if (frame === this.frame) return;
      this.frame = frame;
      const codes = this.runs[this.focus].codes, lut = this.lut, image = this.image, n = this.pixels;
      for (let i = 0, j = frame * n; i < n; i++, j++) image[i] = lut[codes[j]];
      this.regions.change.emit();  // same array, new pixels: tell Bokeh to repaint
    }

    readout() {
      return readout(this.runs[this.focus], this.epoch, this.spec.max_epoch, this.named);
    }
  }

  /* ------------------------------------------------------------ PROTOTYPE: Bokeh draws the static layer once, we draw what moves */

  const DASHES = { solid: [], dashed: [6, 6], dotted: [2, 4], dashdot: [6, 4, 2, 4] };  // Bokeh's named dashes

  class Layer {
    // A canvas over (or, with `under`, beneath) one Bokeh plot's frame. Drawing happens in the
    // plot's own canvas coordinates, i.e. what frame.x_scale.compute / y_scale.compute return.
    constructor(panel, options) {
      options = options || {};
      this.view = panel.view;
      this.pixels = options.pixels || null;  // a fixed backing store scaled by CSS (the 100x100 regions image)
      const canvas = this.canvas = document.createElement("canvas");
      canvas.setAttribute("aria-hidden", "true");
      const style = canvas.style;
      style.position = "absolute";
      style.pointerEvents = "none";
      style.zIndex = options.under ? "-1" : "1";
      if (options.under) panel.el.style.isolation = "isolate";  // z-index -1 stays above the page, below the plot
      if (this.pixels) {
        canvas.width = this.pixels[0];
        canvas.height = this.pixels[1];
        style.imageRendering = "pixelated";  // Bokeh's image glyphs are drawn without smoothing too
      }
      panel.el.appendChild(canvas);
      this.ctx = canvas.getContext("2d");
      this.key = "";
    }

    place() {
      // Follow Bokeh's layout: true when the frame moved or resized (the canvas is then blank).
      const { bbox } = this.view.frame;
      const ratio = window.devicePixelRatio || 1;
      const key = [bbox.left, bbox.top, bbox.width, bbox.height, ratio].join();
      if (key === this.key) return false;
      this.key = key;
      const style = this.canvas.style;
      style.left = bbox.left + "px";
      style.top = bbox.top + "px";
      style.width = bbox.width + "px";
      style.height = bbox.height + "px";
      if (!this.pixels) {
        this.canvas.width = Math.max(1, Math.round(bbox.width * ratio));
        this.canvas.height = Math.max(1, Math.round(bbox.height * ratio));
        const sx = this.canvas.width / bbox.width, sy = this.canvas.height / bbox.height;
        this.ctx.setTransform(sx, 0, 0, sy, -bbox.left * sx, -bbox.top * sy);
      }
      return true;
    }

    clear() {
      const { bbox } = this.view.frame;
      this.ctx.clearRect(bbox.left, bbox.top, bbox.width, bbox.height);
      return this.ctx;
    }
  }

  function hideRenderers(view, names) {
    for (const renderer of view.model.renderers) {
      const source = renderer.data_source;
      if (source && names.includes(source.name)) renderer.visible = false;
    }
  }

  class LayeredScene extends Scene {
    get layered() { return true; }

    setupMoving(spec, panels) {
      const [h, w] = spec.region_shape;
      const regions = panels.get("regions");
      hideRenderers(regions.view, ["regions-image"]);
      regions.view.model.background_fill_color = null;  // let the layer beneath show through the frame
      this.regionLayer = new Layer(regions, { under: true, pixels: [w, h] });
      this.imageData = new ImageData(w, h);
      this.pixels32 = new Uint32Array(this.imageData.data.buffer);
      this.planeLayers = spec.planes.map((plane) => {
        const panel = panels.get("landscape-" + plane);
        hideRenderers(panel.view, ["now-" + plane].concat(this.runs.map((r) => "path-" + plane + "-" + r.name)));
        return { plane, layer: new Layer(panel), screen: null, drawn: null };
      });
      const markerPanels = ["loss", "accuracy"].concat(...spec.planes.map((p) => ["gap-" + p, "distance-" + p]));
      this.overlays = [];
      if (MARKERS === "html") {
        this.markers = markerPanels.map((key) => overlayLine(panels.get(key)));
        this.lossNow = overlayDots(panels.get("loss"), this.colours);
        this.overlays = [...this.markers, this.lossNow];
        this.curveLayers = [];
      } else {
        this.curveLayers = markerPanels.map((key) => ({ key, layer: new Layer(panels.get(key)), drawn: -1 }));
      }
      // Bokeh lays a plot out again (resize, zoom, fonts) and then repaints it: follow it there,
      // not from our own ResizeObserver, which can run before Bokeh's.
      const views = new Set([regions.view, ...this.planeLayers.map((p) => p.layer.view),
        ...markerPanels.map((key) => panels.get(key).view)]);
      for (const view of views) view.repainted.connect(() => this.relayout());
      this.relayout();
    }

    relayout() {
      let moved = false;
      this.regionLayer.place();
      for (const p of this.planeLayers) {
        if (p.layer.place()) { p.screen = null; p.drawn = null; moved = true; }
      }
      for (const c of this.curveLayers) if (c.layer.place()) { c.drawn = -1; moved = true; }
      for (const overlay of this.overlays) overlay.refresh();
      if (moved && this.ready) this.setEpoch(this.epoch);
    }

    screenPaths(p) {
      const { x_scale, y_scale } = p.layer.view.frame;
      return this.runs.map((run) => {
        const path = run.paths[p.plane];
        return { x: x_scale.v_compute(path.x), y: y_scale.v_compute(path.y) };
      });
    }

    setEpoch(epoch) {
      if (!this.ready) {  // first call, from Scene's constructor: build the layers now
        this.ready = true;
        this.colours = this.runs.map((r) => r.colour);
        this.setupMoving(this.spec, this.panels);
      }
      this.epoch = epoch;
      const at = this.runs.map((r) => Math.min(epoch, r.epochs));
      this.drawRegions(this.runs[this.focus].frameAt[epoch]);
      for (const p of this.planeLayers) this.drawPlane(p, at);
      if (this.overlays.length) {
        this.lossNow.moveTo(at, at.map((e, i) => this.runs[i].loss[e]));
        for (const marker of this.markers) marker.moveTo(epoch);
      }
      for (const c of this.curveLayers) this.drawMarker(c, epoch, at);
    }

    drawRegions(frame) {
      if (frame === this.frame) return;
      this.frame = frame;
      const codes = this.runs[this.focus].codes, lut = this.lut, out = this.pixels32;
      const [h, w] = this.spec.region_shape;
      // codes run from the bottom row up (Bokeh's image convention); ImageData runs top down.
      for (let iy = 0, j = frame * h * w; iy < h; iy++) {
        for (let ix = 0, o = (h - 1 - iy) * w; ix < w; ix++, j++, o++) out[o] = lut[codes[j]];
      }
      this.regionLayer.ctx.putImageData(this.imageData, 0, 0);
    }

    drawPlane(p, at) {
      const key = at.join();
      if (p.drawn === key) return;
      p.drawn = key;
      if (!p.screen) p.screen = this.screenPaths(p);
      const ctx = p.layer.clear();
      this.runs.forEach((run, i) => {
        const { x, y } = p.screen[i];
        ctx.beginPath();
        ctx.moveTo(x[0], y[0]);
        for (let k = 1; k <= at[i]; k++) ctx.lineTo(x[k], y[k]);
        ctx.strokeStyle = run.colour;
        ctx.lineWidth = 2.2;
        ctx.lineJoin = "round";
        ctx.setLineDash(DASHES[this.spec.runs[i].dash] || []);
        ctx.stroke();
      });
      ctx.setLineDash([]);
      this.runs.forEach((run, i) => {
        const { x, y } = p.screen[i];
        ctx.beginPath();
        ctx.arc(x[at[i]], y[at[i]], 4.5, 0, 2 * Math.PI);
        ctx.fillStyle = run.colour;
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = "#ffffff";
        ctx.stroke();
      });
    }

    drawMarker(c, epoch, at) {
      if (c.drawn === epoch) return;
      c.drawn = epoch;
      const ctx = c.layer.clear();
      const { bbox, x_scale, y_scale } = c.layer.view.frame;
      const x = Math.round(x_scale.compute(epoch)) + 0.5;  // a crisp 1-pixel line
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.bottom);
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#888888";
      ctx.stroke();
      ctx.setLineDash([]);
      if (c.key !== "loss") return;
      this.runs.forEach((run, i) => {
        const sy = y_scale.compute(run.loss[at[i]]);
        if (!Number.isFinite(sy)) return;
        ctx.beginPath();
        ctx.arc(x_scale.compute(at[i]), sy, 3, 0, 2 * Math.PI);
        ctx.fillStyle = run.colour;
        ctx.fill();
      });
    }
  }

  /* ------------------------------------------------------------ embedding */

  async function embedPanels(spec, plots, key) {
    clearPlots(plots);
    const keys = [], targets = [];
    plots.classList.add("la-plots--" + spec.layout_name);
    for (const row of spec.layout) {
      const rowEl = document.createElement("div");
      rowEl.className = "la-row la-row--" + row.columns;
      for (const cell of row.cells) {
        const cellEl = document.createElement("div");
        cellEl.className = "la-cell la-span-" + cell.span;
        for (const key of cell.keys) {
          const panel = document.createElement("div");
          panel.className = "la-panel la-panel--" + key.split("-")[0];
          panel.id = plots.id + "-" + key;
          cellEl.appendChild(panel);
          keys.push(key);
          targets.push(panel.id);
        }
        rowEl.appendChild(cellEl);
      }
      plots.appendChild(rowEl);
    }
    const { managers, roots } = await embedViews(spec, keys, targets, key);
    plots._laViews = managers;
    plots._laPanels = new Map(keys.map((key, i) => [key, { el: document.getElementById(targets[i]), view: roots[i] }]));
    const docs = [...new Set(roots.map((v) => v.model.document))];
    plots._laDocs = docs;
    return (name) => {
      for (const doc of docs) {
        const model = doc.get_model_by_name(name);
        if (model) return model;
      }
      throw new Error("lossarticle: no Bokeh model named " + name);
    };
  }

  const PRIORITY = (key) => (key === "regions" ? 0 : key.startsWith("landscape") ? 1 : key === "loss" ? 2 : key === "accuracy" ? 3 : 4);
  let documentCount = 0;

  async function embedViews(spec, keys, targets, key) {
    // PROTOTYPE: one Bokeh document per panel (as shipped) or per figure; all at once or in priority order.
    const order = keys.map((_, i) => i);
    if (ORDER === "priority") order.sort((a, b) => PRIORITY(keys[a]) - PRIORITY(keys[b]));
    if (DOCS === "one") {
      const first = spec.items[keys[0]].doc;
      const doc = { version: first.version, title: "", config: first.config, roots: [] };
      const roots = {}, root_ids = [];
      for (const i of order) {
        const item = spec.items[keys[i]];
        doc.roots.push(...item.doc.roots);
        roots[item.root_id] = targets[i];
        root_ids.push(item.root_id);
      }
      const docid = "la-doc-" + (++documentCount);
      const [manager] = await Bokeh.embed.embed_items({ [docid]: doc }, [{ docid, roots, root_ids }]);
      const byId = new Map(manager.roots.map((view) => [view.model.id, view]));
      return { managers: [manager], roots: keys.map((k) => byId.get(spec.items[k].root_id)) };
    }
    const one = (i) => Bokeh.embed.embed_item(spec.items[keys[i]], targets[i])
      .then((manager) => { mark("la:" + key + ":panel:" + keys[i]); return manager; });
    const managers = new Array(keys.length);
    if (ORDER === "priority") {
      for (const i of order) managers[i] = await one(i);
    } else {
      await Promise.all(order.map((i) => one(i).then((m) => { managers[i] = m; })));
    }
    return { managers, roots: managers.map((m) => m.roots[0]) };
  }

  function clearPlots(plots) {
    for (const manager of plots._laViews || []) {
      for (const view of [...manager.roots]) view.remove();
    }
    if (plots._laDocs && Array.isArray(Bokeh.documents)) {
      for (const doc of plots._laDocs) {
        const i = Bokeh.documents.indexOf(doc);
        if (i >= 0) Bokeh.documents.splice(i, 1);
      }
    }
    plots._laViews = plots._laDocs = null;
    plots.className = plots.className.replace(/\bla-plots--(single|planes)\b/g, "").trim();
    plots.replaceChildren();
  }

  /* ------------------------------------------------------------ controls */

  const reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  class Player {
    constructor(root, key) {
      this.root = root;
      this.key = key;
      this.plots = root.querySelector(".la-plots");
      this.slider = root.querySelector(".la-epoch");
      this.playButton = root.querySelector(".la-play");
      this.backButton = root.querySelector(".la-back");
      this.forwardButton = root.querySelector(".la-forward");
      this.runSelect = root.querySelector(".la-run");
      this.output = root.querySelector(".la-readout");
      this.scene = null;
      this.playing = false;
      this.visible = false;
      this.autoplayed = false;
      this.touched = false;  // a reader who used the controls is never overridden by autoplay
      this.wire();
    }

    get epoch() { return this.scene ? this.scene.epoch : Number(this.slider.value); }
    get maxEpoch() { return this.scene ? this.scene.spec.max_epoch : Number(this.slider.max); }

    wire() {
      const touch = () => { this.touched = true; };
      this.slider.addEventListener("input", () => { touch(); this.pause(); this.request(Number(this.slider.value)); });
      this.playButton.addEventListener("click", () => { touch(); this.playing ? this.pause() : this.play(); });
      this.backButton.addEventListener("click", () => { touch(); this.pause(); this.show(this.epoch - 1); });
      this.forwardButton.addEventListener("click", () => { touch(); this.pause(); this.show(this.epoch + 1); });
      if (this.runSelect) {
        this.runSelect.addEventListener("change", () => {
          touch();
          if (this.scene) this.scene.setFocus(Number(this.runSelect.value));
          this.writeReadout();
        });
      }
    }

    async attach(spec) {
      this.setReady(false);
      await bokehReady;
      mark("la:" + this.key + ":embed");
      const find = await embedPanels(spec, this.plots, this.key);
      mark("la:" + this.key + ":embedded");
      const keep = this.scene ? Math.min(this.scene.epoch, spec.max_epoch) : spec.max_epoch;
      this.scene = LAYERS ? new LayeredScene(spec, find, this.plots._laPanels) : new Scene(spec, find, this.plots._laPanels);
      mark("la:" + this.key + ":scene");
      if (!this.resizeWatch && window.ResizeObserver) {
        // Plots stretch with the page: put the overlays back once Bokeh has laid them out again.
        this.resizeWatch = new ResizeObserver(() => requestAnimationFrame(() => {
          if (this.scene && !this.scene.layered) for (const overlay of this.scene.overlays) overlay.refresh();
        }));
        this.resizeWatch.observe(this.plots);
      }
      this.slider.max = String(spec.max_epoch);
      if (this.runSelect) this.scene.setFocus(Number(this.runSelect.value) || 0);
      this.show(keep);
      this.setReady(true);
      mark("la:" + this.key + ":ready");
      this.maybeAutoplay();
    }

    fail(error) {
      this.setReady(false);
      const note = document.createElement("p");
      note.className = "la-error";
      note.setAttribute("role", "alert");
      note.textContent = "This figure could not be loaded (" + error.message + ").";
      this.plots.replaceChildren(note);
    }

    setReady(ready) {
      this.ready = ready;
      this.root.dataset.ready = String(ready);
      for (const control of [this.slider, this.playButton, this.backButton, this.forwardButton, this.runSelect]) {
        if (control) control.disabled = !ready;
      }
    }

    request(epoch) {
      // PROTOTYPE: input events can come faster than frames; draw once per frame, the latest value.
      if (!LAYERS) { this.show(epoch); return; }
      this.wanted = epoch;
      if (!this.frameRequest) {
        this.frameRequest = requestAnimationFrame(() => { this.frameRequest = 0; this.show(this.wanted); });
      }
    }

    show(epoch) {
      if (!this.scene) return;
      const e = Math.max(0, Math.min(this.maxEpoch, Math.round(epoch)));
      this.scene.setEpoch(e);
      if (Number(this.slider.value) !== e) this.slider.value = String(e);
      if (ARIA) this.slider.setAttribute("aria-valuetext", "epoch " + e + " of " + this.maxEpoch);
      this.writeReadout();
    }

    writeReadout() {
      if (READOUT && this.scene) this.output.textContent = this.scene.readout();
    }

    play() {
      if (!this.scene) return;
      if (this.epoch >= this.maxEpoch) this.show(0);
      this.playing = true;
      this.output.setAttribute("aria-live", "off");  // do not read out sixty epochs a second
      this.playButton.setAttribute("aria-label", "Pause");
      this.playButton.classList.add("is-playing");
      const rate = Math.min(MAX_RATE, Math.max(MIN_RATE, this.maxEpoch / PLAY_SECONDS));
      let last = performance.now(), owed = 0;
      const tick = (now) => {
        if (!this.playing) return;
        owed += ((now - last) * rate) / 1000;
        last = now;
        const step = Math.floor(owed);
        if (step > 0) { owed -= step; this.show(this.epoch + step); }
        if (this.epoch >= this.maxEpoch) this.pause(); else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }

    pause() {
      if (!this.playing) return;
      this.playing = false;
      this.output.setAttribute("aria-live", "polite");
      this.playButton.setAttribute("aria-label", "Play");
      this.playButton.classList.remove("is-playing");
      this.writeReadout();
    }

    setVisible(visible) {
      this.visible = visible;
      if (visible) this.maybeAutoplay(); else this.pause();
    }

    maybeAutoplay() {
      if (this.autoplayed || this.touched || !this.visible || !this.ready || reducedMotion.matches) return;
      this.autoplayed = true;
      this.show(0);
      this.play();
    }

    state() {
      return { epoch: this.epoch, playing: this.playing, ready: !!this.ready, max: this.maxEpoch,
        slug: this.scene ? this.scene.spec.slug : null };
    }
  }

  /* ------------------------------------------------------------ explorer: one view, many experiments */

  class Explorer extends Player {
    constructor(root) {
      super(root, "explorer");
      this.choices = [...root.querySelectorAll(".la-choice")];
      this.token = 0;
      for (const button of this.choices) {
        button.addEventListener("click", () => { this.touched = true; this.choose(button); });
      }
    }

    initialChoice() {
      const wanted = this.root.dataset.initial;
      return this.choices.find((b) => b.dataset.slug === wanted) || this.choices[0];
    }

    async choose(button) {
      const token = ++this.token;
      this.pause();
      for (const b of this.choices) b.setAttribute("aria-pressed", String(b === button));
      this.root.dataset.slug = button.dataset.slug;
      try {
        const spec = await loadSpec(button.dataset.slug, button.dataset.src);
        if (token === this.token) await this.attach(spec);
      } catch (error) {
        if (token === this.token) this.fail(error);
      }
    }
  }

  /* ------------------------------------------------------------ start-up */

  const queue = [];
  const loading = new Set();  // figure roots whose script was asked for but has not arrived
  let embedding = false;

  function distanceToView(el) {
    const r = el.getBoundingClientRect();
    return r.bottom < 0 ? -r.bottom : r.top > innerHeight ? r.top - innerHeight : 0;
  }

  function enqueue(run) {
    // PROTOTYPE: figures embed one at a time, the one nearest the viewport first.
    loading.delete(run.root);
    if (!QUEUE) return run.attach();
    return new Promise((resolve, reject) => { queue.push({ run, resolve, reject }); pump(); });
  }

  function pump() {
    if (embedding || !queue.length) return;
    queue.sort((a, b) => distanceToView(a.run.root) - distanceToView(b.run.root));
    // A nearer figure whose script is still on its way goes first: wait for it.
    const best = distanceToView(queue[0].run.root);
    for (const root of loading) if (distanceToView(root) < best) return;
    const job = queue.shift();
    embedding = true;
    job.run.attach().then(job.resolve, job.reject).finally(() => { embedding = false; pump(); });
  }

  function nearNow(el) {
    const r = el.getBoundingClientRect();
    return r.bottom > -innerHeight && r.top < 2 * innerHeight;
  }

  function start(player, load) {
    if (FAR) {
      // PROTOTYPE: every rendered canvas is re-produced at each frame's commit (software
      // compositing) and every layer walked by the layerizer: figures far away skip rendering.
      const far = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (e.isIntersecting) { player.root.style.contentVisibility = ""; continue; }
          player.root.style.containIntrinsicSize = "auto " + Math.round(e.boundingClientRect.height) + "px";
          player.root.style.contentVisibility = "hidden";
        }
      }, { rootMargin: FAR + " 0px " + FAR + " 0px" });
      far.observe(player.root);
    }
    if (CV) {
      // PROTOTYPE: figures off screen skip style, layout and paint (and their canvases leave the layer tree).
      player.root.style.contentVisibility = "auto";
      player.root.style.containIntrinsicSize = "auto " + Math.round(player.root.getBoundingClientRect().height) + "px";
    }
    if (EARLY && (nearNow(player.root) || location.hash === "#" + player.root.id)) {
      load();  // PROTOTYPE: no need to wait for a frame (and BokehJS) for the observer's first answer
    } else {
      const near = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) { near.disconnect(); load(); }
      }, { rootMargin: NEAR });
      near.observe(player.root);
    }
    const seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const tall = e.rootBounds ? e.intersectionRect.height >= 0.5 * e.rootBounds.height : false;
        player.setVisible(e.isIntersecting && (e.intersectionRatio >= 0.3 || tall));
      }
    }, { threshold: [0, 0.1, 0.2, 0.3, 0.5, 0.75] });
    seen.observe(player.root);
  }

  function init() {
    for (const root of document.querySelectorAll(".la-figure[data-src]")) {
      const player = new Player(root, root.dataset.slug);
      players.set(root.dataset.slug, player);
      start(player, () => {
        loading.add(root);
        return loadSpec(root.dataset.slug, root.dataset.src)
          .then((spec) => enqueue({ root, attach: () => player.attach(spec) }),
            (error) => { loading.delete(root); pump(); player.fail(error); });
      });
    }
    for (const root of document.querySelectorAll(".la-explorer")) {
      const explorer = new Explorer(root);
      players.set("explorer", explorer);
      start(explorer, () => explorer.choose(explorer.initialChoice()));
    }
  }

  window.lossarticle = {
    register,
    state: (key) => (players.has(key) ? players.get(key).state() : null),
    formatLoss,
    formatPercent,
    _players: players,  // for the browser tests and the console, not for pages
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
