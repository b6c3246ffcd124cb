/* lossarticle: drives the article's Bokeh figures from plain HTML controls.
 *
 * Each figure has two layers. Bokeh draws the static one once: axes, surface images,
 * contours, full curves (lossarticle/panels.py). This file draws what moves with the
 * epoch, on its own layer placed from each plot's frame box and scales: the path so far
 * and the current points as SVG over each landscape, the epoch markers and the current
 * loss as HTML over the curves, the decision-region frame as a 100×100 ImageData beneath
 * the regions plot, whose frame Bokeh leaves see-through. A slider step touches no Bokeh
 * model, so Bokeh does no work at all; input is coalesced to one draw per animation frame.
 * Every canvas the browser renders costs at every frame (see Marker), so those that show
 * nothing or never change are left out of rendering (spareCanvases).
 *
 * The page's CSP forbids eval, so no Bokeh CustomJS or widgets: each figure's data
 * arrives as figures/<slug>.js, which calls window.lossarticle.register. Figures load
 * when they come within a screen of the viewport and embed one at a time, the one the
 * address names first, then the one nearest the viewport; a figure is interactive once
 * the panels the spec lists "first" (the first plane's landscape, the regions) are drawn; the
 * other landscapes, the curves and the strips follow.
 * Plots far from the viewport stop rendering (content-visibility: hidden).
 *
 * The address holds what the reader sees: #fig-<slug>?epoch=120&run=sgd&view=stretched
 * &scale=shared (the explorer adds net=<slug>), replaced as the reader moves, restored on
 * load and on back/forward.
 *
 * Milestones are left as User Timing marks, which DevTools shows and `generate.py bench`
 * reads back: "la:<slug>:request" (figure script asked for) and ":registered" (fetched,
 * parsed and run); per embedding, "la:<key>:embed" (key: the figure's slug, or
 * "explorer"), ":panel:<panel>" (a panel rendered), ":embedded" (the first panels),
 * ":scene" (data decoded, first epoch drawn), ":ready" (interactive) and ":complete"
 * (every panel, curves filled). "la:script" marks this file starting to run, i.e.
 * BokehJS, deferred before it, has run.
 */
(function () {
  "use strict";

  const mark = (name) => { if (window.performance && performance.mark) performance.mark(name); };
  mark("la:script");

  const NEAR = "100% 0px 100% 0px";  // start loading one viewport ahead
  const RENDERED = "10% 0px 10% 0px";  // plots farther than a tenth of a viewport stop rendering
  const MIN_RATE = 30, MAX_RATE = 100, PLAY_SECONDS = 12;  // epochs per second while playing at 1×
  // The address is rewritten once the reader has settled for ADDRESS_SETTLE_MS, and at most every
  // ADDRESS_MAX_MS during a long drag or play: each history.replaceState costs a same-document
  // navigation, and Chromium fetches and parses the favicon again after it (7-9 ms of main
  // thread per rewrite here, more than a whole step).
  const ADDRESS_SETTLE_MS = 400, ADDRESS_MAX_MS = 3000;
  const THIN = "\u202f";
  const EPOCH_PANELS = ["loss", "accuracy", "gap-", "distance-"];  // panels whose x axis is the epoch
  // Bokeh's named dashes (core/visuals/line.ts, resolve_line_dash), for the paths we draw.
  const DASHES = { solid: [], dashed: [3, 2], dotted: [2, 1], dotdash: [2, 4, 6, 4], dashdot: [6, 4, 2, 4] };

  const specs = new Map();     // slug -> spec, as registered by figures/<slug>.js
  const waiting = new Map();   // slug -> [{resolve, reject}]
  const requested = new Set(); // slugs whose script tag was inserted
  const preloaded = new Set(); // slugs whose script was fetched ahead (preload), not yet run
  const players = new Map();   // figure slug or "explorer" -> Player

  tuneBokeh();

  function tuneBokeh() {
    if (!window.Bokeh) return;
    if (Bokeh.set_log_level) Bokeh.set_log_level("warn");
    // Two of Bokeh's style reads, answered from what we know (pixel-identical plots).
    // Bokeh 3.9 asks getComputedStyle for a --bk-* CSS variable of every visual at every
    // paint, to let a page theme plots from CSS. We set none, so the answer is always "not
    // set": answering at once gives pixel-identical plots and saves a style read per visual
    // (the first figure became interactive 0.1-0.2 s sooner in the issue 12 prototype).
    try {
      const { VisualProperties } = Bokeh.require("core/visuals/visual");
      if (VisualProperties && VisualProperties.prototype._get_css_value) {
        VisualProperties.prototype._get_css_value = () => "";
      }
      // A plot reads its element's computed font size (getComputedStyle, a forced style
      // recalculation in the middle of building the plot) for every text it measures, to
      // resolve em sizes; ours are all in px. Read once per plot, again after a window resize
      // (a media query may change it): the first figure's embedding took 25 % less main thread.
      const { PlotView } = Bokeh.require("models/plots/plot_canvas");
      const own = Object.getOwnPropertyDescriptor(PlotView.prototype, "base_font_size");
      if (own && own.get) {
        let generation = 0;
        window.addEventListener("resize", () => { generation++; });
        Object.defineProperty(PlotView.prototype, "base_font_size", { configurable: true, get() {
          if (!this._laFontSize || this._laFontSize[0] !== generation) this._laFontSize = [generation, own.get.call(this)];
          return this._laFontSize[1];
        } });
      }
    } catch (error) {
      // Another BokehJS build without this module: keep its own behaviour.
    }
  }

  /* ------------------------------------------------------------ loading */

  function register(slug, spec) {
    mark("la:" + slug + ":registered");
    specs.set(slug, spec);
    for (const w of waiting.get(slug) || []) w.resolve(spec);
    waiting.delete(slug);
  }

  function preload(slug, src) {
    // Fetch a figure script now, run it later (loadSpec, when the figure's turn comes): a
    // script runs on the main thread the moment it arrives, and a neighbour's would land in
    // the middle of the figure the reader waits for.
    if (specs.has(slug) || preloaded.has(slug)) return;
    preloaded.add(slug);
    mark("la:" + slug + ":request");
    const link = document.createElement("link");
    link.rel = "preload";
    link.as = "script";
    link.href = src;
    document.head.appendChild(link);
  }

  function loadSpec(slug, src) {
    if (specs.has(slug)) return Promise.resolve(specs.get(slug));
    const promise = new Promise((resolve, reject) => {
      if (!waiting.has(slug)) waiting.set(slug, []);
      waiting.get(slug).push({ resolve, reject });
    });
    if (!requested.has(slug)) {
      requested.add(slug);
      if (!preloaded.has(slug)) mark("la:" + slug + ":request");
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

  /* ------------------------------------------------------------ numbers and words: the page's only formatter */

  // The prose prints numbers with lossarticle/summaries.py's num (3 significant digits) and
  // pct (one decimal); the readout prints them the same way, so the two read alike. Python
  // rounds the exact binary value half to even; toFixed rounds a tie away from zero. A tie
  // needs a value exactly halfway in binary (6.25 %, 1.125), rare but real, so digits are
  // rounded here from the value's exact decimal expansion.

  function exactDigits(x) {
    // |x| as exact decimal digits [integer part, fraction]: exact for 1e-30 < |x| < 1e21.
    const [whole, fraction = ""] = Math.abs(x).toFixed(100).split(".");
    return [whole, fraction.replace(/0+$/, "")];
  }

  function roundHalfEven(digits, keep) {
    // The first ``keep`` digits of ``digits``, rounded half to even (one digit longer on a carry).
    const head = digits.slice(0, keep).padEnd(keep, "0"), tail = digits.slice(keep);
    const up = tail[0] > "5" || (tail[0] === "5" && (/[1-9]/.test(tail.slice(1)) || Number(head.slice(-1)) % 2 === 1));
    if (!up) return head;
    return (BigInt(head || "0") + 1n).toString().padStart(keep, "0");
  }

  function fixed(x, decimals) {
    // Python's f"{x:.{decimals}f}".
    if (Math.abs(x) >= 1e21) return x.toFixed(decimals);
    const [whole, fraction] = exactDigits(x);
    const rounded = roundHalfEven(whole + fraction, whole.length + decimals);
    const cut = rounded.length - decimals;
    const text = rounded.slice(0, cut).replace(/^0+(?=\d)/, "") + (decimals ? "." + rounded.slice(cut) : "");
    return (x < 0 ? "-" : "") + text;
  }

  function scientific(x, decimals) {
    // Python's f"{x:.{decimals}e}": at least two exponent digits, always signed.
    const [whole, fraction] = exactDigits(x);
    const all = whole + fraction, first = all.search(/[1-9]/);
    if (first < 0 || Math.abs(x) >= 1e21 || Math.abs(x) < 1e-30) {
      const [mantissa, exponent] = x.toExponential(decimals).split("e");
      const e = Number(exponent);
      return mantissa + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
    }
    let exponent = whole.length - 1 - first;
    let kept = roundHalfEven(all.slice(first), decimals + 1);
    if (kept.length > decimals + 1) { exponent += 1; kept = kept.slice(0, decimals + 1); }
    const mantissa = kept[0] + (decimals ? "." + kept.slice(1) : "");
    return (x < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String(Math.abs(exponent)).padStart(2, "0");
  }

  function formatNumber(x, digits = 3) {
    // summaries.num: ``digits`` significant digits, scientific only outside 1e-5 ... 1e6.
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    const magnitude = Math.floor(Math.log10(Math.abs(x)));
    if (magnitude >= -5 && magnitude < 6) return fixed(x, Math.max(digits - 1 - magnitude, 0));
    return scientific(x, digits - 1);
  }

  function formatPercent(fraction, digits = 1) {
    // summaries.pct: 0.953 -> "95.3 %".
    return fixed(100 * fraction, digits) + THIN + "%";
  }

  const shown = (format) => (v) => (Number.isFinite(v) ? format(v) : "—");
  const lossText = shown((v) => formatNumber(v)), percentText = shown((v) => formatPercent(v));

  function readout(run, epoch, last, named) {
    const parts = ["epoch " + epoch + " / " + last];
    if (named) parts.push(run.name);
    if (epoch > run.epochs) return parts.concat("diverged at epoch " + run.epochs).join(" · ");
    parts.push("loss " + lossText(run.loss[epoch]), "train " + percentText(run.trainAcc[epoch]),
      "val " + percentText(run.valAcc[epoch]));
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

  // A landscape's loss as page_data.pack_loss packed it: 16-bit steps of log10(loss) between the
  // map's own extremes, each row as differences from its left neighbour, low bytes then high bytes.
  const OVERFLOW = 65535;
  function unpackLoss(packed) {
    const [ny, nx] = packed.shape, n = ny * nx, bytes = gunzipBase64(packed.data);
    const loss = new Float32Array(n), span = (packed.high - packed.low) / (OVERFLOW - 1);
    for (let row = 0; row < ny; row++) {
      let code = 0;
      for (let i = row * nx, end = i + nx; i < end; i++) {
        code = (code + (bytes[i] | (bytes[n + i] << 8))) & 0xffff;
        loss[i] = code === OVERFLOW ? Infinity : Math.pow(10, packed.low + code * span);
      }
    }
    return Bokeh.require("core/util/ndarray").ndarray(loss, { dtype: "float32", shape: [ny, nx] });
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
      name: raw.name, colour: raw.colour, dash: DASHES[raw.dash] || [], epochs: raw.epochs, diverged: raw.diverged,
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

  function regionCode(code, bits, classes) {
    // What one packed byte says: the predicted class and the interval its probability lies in.
    // page_data.encode_regions stores confidence >> (8 - bits), confidence being
    // round(255 · (p − 1/C) / (1 − 1/C)); so the byte holds 2^(8 - bits) confidences.
    const label = code >> bits, step = 1 << (8 - bits), level = code & ((1 << bits) - 1);
    const chance = 1 / classes, p = (c) => Math.min(1, Math.max(chance, chance + (1 - chance) * c / 255));
    return { label, low: p(level * step - 0.5), high: p(level * step + step - 0.5) };
  }

  const epochAxis = (n) => Float64Array.from({ length: n }, (_, i) => i);

  function visibleVertices(x, y) {
    // The vertices of a path (canvas pixels) that move it by half a pixel or more: late in
    // training a path creeps by hundredths of a pixel per epoch, and every vertex kept is text
    // in the SVG path, parsed and laid out again at every step.
    const kept = [0];
    for (let k = 1, last = 0; k < x.length; k++) {
      if (!Number.isFinite(x[k]) || !Number.isFinite(y[k])) continue;
      if (Math.abs(x[k] - x[last]) >= 0.5 || Math.abs(y[k] - y[last]) >= 0.5) { kept.push(k); last = k; }
    }
    return Int32Array.from(kept);
  }

  /* ------------------------------------------------------------ our layer over and under Bokeh's plots */

  const SVG = "http://www.w3.org/2000/svg";

  class PathLayer {
    // The runs' paths so far and their current points over one landscape: SVG over the plot's
    // frame, its viewBox the frame box in Bokeh's canvas coordinates, so a vertex goes where
    // frame.x_scale.compute puts it. SVG rather than a canvas: a 2D canvas is rasterized on
    // the main thread when the frame is committed, and every rendered canvas is produced again
    // at each frame; SVG is recorded on the main thread and rasterized off it. Placed again
    // after each of Bokeh's repaints (a resize, the proportion toggle's new ranges), never before.
    constructor(panel, runs, plane) {
      this.view = panel.view;
      this.runs = runs;
      this.plane = plane;
      const make = (name, attributes) => {
        const el = document.createElementNS(SVG, name);
        for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
        this.svg.appendChild(el);
        return el;
      };
      this.svg = document.createElementNS(SVG, "svg");
      this.svg.setAttribute("class", "la-paths");
      this.svg.setAttribute("aria-hidden", "true");
      this.lines = runs.map((run) => make("path", run.dash.length ? { stroke: run.colour, "stroke-dasharray": run.dash.join(" ") }
        : { stroke: run.colour }));
      this.points = runs.map((run) => make("circle", { r: "4.5", fill: run.colour }));  // over every path
      panel.el.appendChild(this.svg);
      this.placed = "";
      this.at = null;
      this.view.repainted.connect(() => { if (this.at) this.draw(this.at); });
    }

    place() {
      const { bbox, x_scale, y_scale } = this.view.frame;
      const key = [bbox.left, bbox.top, bbox.width, bbox.height, x_scale.source_range.start, x_scale.source_range.end,
        y_scale.source_range.start, y_scale.source_range.end].join();
      if (key === this.placed) return;
      this.placed = key;
      Object.assign(this.svg.style, { left: bbox.left + "px", top: bbox.top + "px", width: bbox.width + "px",
        height: bbox.height + "px" });
      this.svg.setAttribute("viewBox", [bbox.left, bbox.top, bbox.width, bbox.height].join(" "));
      this.vertices = this.runs.map((run) => {
        const x = x_scale.v_compute(run.paths[this.plane].x), y = y_scale.v_compute(run.paths[this.plane].y);
        return { x, y, kept: visibleVertices(x, y), text: Array.from(x, (v, k) => v.toFixed(1) + "," + y[k].toFixed(1)) };
      });
      this.drawn = [];
    }

    draw(at) {
      this.at = at;
      const { bbox } = this.view.frame;
      if (!bbox || !(bbox.width > 0)) return;
      this.place();
      this.runs.forEach((run, i) => {
        const end = at[i], { x, y, kept, text } = this.vertices[i];
        if (this.drawn[i] === end) return;
        this.drawn[i] = end;
        let d = "M" + text[0];
        for (let j = 1; j < kept.length && kept[j] < end; j++) d += "L" + text[kept[j]];
        if (end > 0) d += "L" + text[end];
        this.lines[i].setAttribute("d", d);
        this.points[i].setAttribute("cx", x[end].toFixed(1));
        this.points[i].setAttribute("cy", y[end].toFixed(1));
      });
    }
  }

  class RegionLayer {
    // The focused run's decision regions, a w×h canvas put beneath the regions plot's
    // see-through frame (in Bokeh's underlay layer) and stretched over it by CSS without
    // smoothing, as Bokeh's image glyphs are drawn. Codes run from the bottom row up
    // (Bokeh's image convention); ImageData rows run top down.
    constructor(view, spec) {
      const [h, w] = spec.region_shape;
      this.view = view;
      this.h = h;
      this.w = w;
      this.canvas = document.createElement("canvas");
      this.canvas.width = w;
      this.canvas.height = h;
      this.canvas.className = "la-regions";
      this.canvas.setAttribute("aria-hidden", "true");
      Object.assign(this.canvas.style, { position: "absolute", imageRendering: "pixelated", pointerEvents: "none" });
      view.canvas_view.underlays_el.appendChild(this.canvas);
      this.ctx = this.canvas.getContext("2d");
      this.image = new ImageData(w, h);
      this.pixels = new Uint32Array(this.image.data.buffer);
      this.placed = "";
      view.repainted.connect(() => this.place());
      this.place();
    }

    place() {
      const { bbox } = this.view.frame;
      const key = [bbox.left, bbox.top, bbox.width, bbox.height].join();
      if (key === this.placed) return;
      this.placed = key;
      Object.assign(this.canvas.style, { left: bbox.left + "px", top: bbox.top + "px",
        width: bbox.width + "px", height: bbox.height + "px" });
    }

    show(codes, frame, lut) {
      const { w, h, pixels } = this;
      for (let iy = 0, j = frame * h * w; iy < h; iy++) {
        for (let ix = 0, o = (h - 1 - iy) * w; ix < w; ix++, j++, o++) pixels[o] = lut[codes[j]];
      }
      this.ctx.putImageData(this.image, 0, 0);
    }
  }

  class RegionHover {
    // A hover readout for the regions we draw (Bokeh's HoverTool cannot see them): the point
    // under the pointer, the predicted class and the interval of its probability.
    constructor(panel, scene) {
      this.panel = panel;
      this.scene = scene;
      const tip = this.tip = document.createElement("div");
      tip.className = "la-tip";
      tip.setAttribute("aria-hidden", "true");  // canvases are not in the accessibility tree either
      tip.hidden = true;
      this.swatch = document.createElement("span");
      this.swatch.className = "la-swatch";
      this.text = document.createElement("span");
      tip.append(this.swatch, this.text);
      panel.el.appendChild(tip);
      panel.el.addEventListener("pointermove", (event) => this.move(event));
      panel.el.addEventListener("pointerleave", () => { tip.hidden = true; });
    }

    at(event) {
      // The grid cell under the pointer, or null outside the plot's frame.
      const view = this.panel.view, { bbox, x_scale, y_scale } = view.frame;
      const box = view.canvas_view.el.getBoundingClientRect();
      const sx = event.clientX - box.left, sy = event.clientY - box.top;
      if (sx < bbox.left || sx > bbox.right || sy < bbox.top || sy > bbox.bottom) return null;
      const { x_range, y_range } = view.model, [h, w] = this.scene.spec.region_shape;
      const x = x_scale.invert(sx), y = y_scale.invert(sy);
      const ix = Math.floor((x - x_range.start) / (x_range.end - x_range.start) * w);
      const iy = Math.floor((y - y_range.start) / (y_range.end - y_range.start) * h);
      if (ix < 0 || ix >= w || iy < 0 || iy >= h) return null;
      return { x, y, ix, iy, sx, sy, width: box.width };
    }

    move(event) {
      const cell = this.at(event), scene = this.scene;
      if (!cell || scene.frame < 0) { this.tip.hidden = true; return; }
      const { spec } = scene, [h, w] = spec.region_shape;
      const code = scene.runs[scene.focus].codes[scene.frame * h * w + cell.iy * w + cell.ix];
      const { label, low, high } = regionCode(code, spec.confidence_bits, spec.classes.length);
      this.swatch.style.backgroundColor = spec.classes[label];
      this.text.textContent = "x₁ " + formatNumber(cell.x) + ", x₂ " + formatNumber(cell.y) + " · class " + (label + 1) +
        " · probability " + fixed(100 * low, 1) + "–" + formatPercent(high);
      this.tip.hidden = false;
      const left = cell.sx < cell.width / 2 ? cell.sx + 14 : cell.sx - 14 - this.tip.offsetWidth;
      this.tip.style.transform = "translate(" + Math.round(left) + "px, " + Math.round(cell.sy + 14) + "px)";
    }
  }

  class Marker {
    // The epoch over a plot whose x axis is the epoch: a dashed line down the frame and, on the
    // loss plot, each run's current loss. HTML moved by transform, not a canvas: under software
    // compositing every rendered canvas is produced again at each frame, changed or not, so a
    // figure's steps cost less the fewer canvases it has. Placed from Bokeh's frame and scales
    // after each of its repaints (a resize lays the plot out again).
    constructor(panel, colours) {
      this.view = panel.view;
      const make = (className) => {
        const el = document.createElement("div");
        el.className = className;
        el.setAttribute("aria-hidden", "true");
        panel.el.appendChild(el);
        return el;
      };
      this.line = make("la-marker");
      this.dots = (colours || []).map((colour) => {
        const dot = make("la-dot");
        dot.style.backgroundColor = colour;
        return dot;
      });
      this.placed = "";
      this.last = null;
      this.view.repainted.connect(() => { if (this.last) this.move(...this.last); });
    }

    move(epoch, at, ys) {
      this.last = [epoch, at, ys];
      const { bbox, x_scale, y_scale } = this.view.frame;
      if (!bbox || !(bbox.width > 0)) return;
      const key = [bbox.top, bbox.height].join();
      if (key !== this.placed) {
        this.placed = key;
        this.line.style.top = bbox.top + "px";
        this.line.style.height = bbox.height + "px";
      }
      this.line.style.transform = "translateX(" + x_scale.compute(epoch).toFixed(1) + "px)";
      this.dots.forEach((dot, i) => {
        const sy = y_scale.compute(ys[i]), inside = sy >= bbox.top && sy <= bbox.bottom;
        dot.style.visibility = inside ? "visible" : "hidden";
        if (inside) dot.style.transform = "translate(" + x_scale.compute(at[i]).toFixed(1) + "px, " + sy.toFixed(1) + "px)";
      });
    }
  }

  function drawn(canvas) {
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
    return false;
  }

  function spareCanvases(view) {
    // Canvases Bokeh renders that show nothing or never change, left out of rendering: each
    // rendered canvas costs at every frame (see Marker). A plot's overlay canvas stays empty (no
    // renderer of ours is at Bokeh's "overlay" level, and no tool draws there); a legend's line
    // samples never change, so each becomes an image of itself once Bokeh has drawn it.
    // Run after every repaint: Bokeh builds new legend entries when it renders the legend again.
    for (const renderer of view.computed_renderer_views || []) {
      const root = renderer.model && renderer.model.type === "Legend" ? renderer.shadow_el : null;
      for (const canvas of root ? root.querySelectorAll("canvas.bk-glyph") : []) {
        if (canvas.style.display === "none" || !canvas.width || !drawn(canvas)) continue;
        const image = new Image(canvas.width / (window.devicePixelRatio || 1), canvas.height / (window.devicePixelRatio || 1));
        image.src = canvas.toDataURL();
        image.alt = "";
        image.className = canvas.className;
        if (canvas.nextSibling && canvas.nextSibling.tagName === "IMG") canvas.nextSibling.remove();
        canvas.after(image);
        canvas.style.display = "none";
      }
    }
  }

  /* ------------------------------------------------------------ a figure: Bokeh's static layer, our moving one */

  class Scene {
    constructor(spec, embedding) {
      this.spec = spec;
      this.embedding = embedding;
      this.runs = spec.runs.map((r) => prepareRun(r, spec));
      this.named = this.runs.length > 1;
      this.lut = colourLut(spec.classes, spec.confidence_bits);
      this.focus = 0;
      this.epoch = spec.max_epoch;
      this.at = this.runs.map((r) => Math.min(this.epoch, r.epochs));
      this.frame = -1;
      this.fillCurves();
      this.fillFocus();
      const regions = embedding.panels.get("regions");
      this.regions = new RegionLayer(regions.view, spec);
      this.hover = new RegionHover(regions, this);
      this.paths = [];
      this.addPaths();
      this.markers = [];
      this.addMarkers();
    }

    // The other panels arrive after the figure is interactive: fill them, draw on them.
    laterArrived() {
      this.fillCurves();
      this.fillFocus();
      if (this.addPaths() && this.view) this.setLandscape(this.view, this.scaleKey);
      this.addMarkers();
    }

    // Each landscape, in whichever embedding it arrives: its loss filled, our path layer over it.
    // Returns whether any arrived.
    addPaths() {
      let added = false;
      for (const plane of this.spec.planes) {
        const panel = this.embedding.panels.get("landscape-" + plane);
        if (!panel || panel.layered) continue;
        panel.layered = added = true;
        for (const view of this.spec.landscapes[plane]) {
          // Filled once: the spec carries the loss packed, the plot a placeholder of its shape.
          const source = this.find("image-source-" + plane + "-" + view.name);
          source.data = { ...source.data, image: [unpackLoss(view.loss)] };
        }
        const layer = new PathLayer(panel, this.runs, plane);
        this.paths.push(layer);
        layer.draw(this.at);
      }
      return added;
    }

    addMarkers() {
      for (const [key, panel] of this.embedding.panels) {
        if (panel.marked || !EPOCH_PANELS.some((prefix) => key.startsWith(prefix))) continue;
        panel.marked = true;
        const marker = new Marker(panel, key === "loss" ? this.runs.map((r) => r.colour) : null);
        this.markers.push(marker);
        this.moveMarker(marker);
      }
    }

    moveMarker(marker) {
      marker.move(this.epoch, this.at, this.at.map((e, i) => this.runs[i].loss[e]));
    }

    find(name) { return this.embedding.find(name); }

    fillCurves() {
      // Bokeh updates, once: the curves' data ships once, in the runs, not again in the panels.
      if (this.curvesFilled || !this.embedding.panels.has("loss")) return;
      this.curvesFilled = true;
      for (const run of this.runs) {
        const x = epochAxis(run.loss.length);
        this.find("loss-" + run.name).data = { x, y: run.loss };
        this.find("train-acc-" + run.name).data = { x, y: run.trainPct };
        this.find("val-acc-" + run.name).data = { x, y: run.valPct };
      }
    }

    // Shows one view (true proportions or stretched) and one colour scale (the figure's or the
    // article's) in every landscape. A plane without the view asked for keeps its true one; one
    // still to arrive gets them when it does (laterArrived).
    setLandscape(viewName, scaleKey) {
      const scale = this.spec.scales[scaleKey];
      for (const plane of this.spec.planes) {
        const panel = this.embedding.panels.get("landscape-" + plane);
        if (!panel) continue;
        const views = this.spec.landscapes[plane];
        const view = views.find((v) => v.name === viewName) || views[0];
        const plot = panel.view.model;
        for (const v of views) {
          this.find("image-" + plane + "-" + v.name).visible = v === view;
          for (const key of Object.keys(this.spec.scales)) {
            this.find("contours-" + plane + "-" + v.name + "-" + key).visible = v === view && key === scaleKey;
          }
        }
        [plot.x_range.start, plot.x_range.end] = view.x_range;
        [plot.y_range.start, plot.y_range.end] = view.y_range;
        this.find("title-" + plane).text = view.title;
        this.find("note-" + plane).text = view.note;
        const mapper = this.find("mapper-" + plane), bar = this.find("bar-" + plane);
        mapper.low = scale.low;
        mapper.high = scale.high;
        bar.ticker.ticks = scale.ticks;
        bar.major_label_overrides = new Map(scale.ticks.map((t, i) => [t, scale.labels[i]]));
      }
      this.view = viewName;
      this.scaleKey = scaleKey;
      // Bokeh repaints the landscapes with the new ranges; our paths follow on "repainted".
    }

    get stretchable() {
      return this.spec.planes.some((plane) => this.spec.landscapes[plane].length > 1);
    }

    setFocus(index) {
      this.focus = index;
      this.fillFocus();
      this.frame = -1;
      this.setEpoch(this.epoch);
    }

    fillFocus() {
      // The strips show the focused run: a Bokeh update, on a change of run, never on a step.
      const run = this.runs[this.focus], x = epochAxis(run.loss.length), panels = this.embedding.panels;
      for (const plane of this.spec.planes) {
        if (!panels.has("gap-" + plane)) continue;
        const path = run.paths[plane];
        this.find("gap-recorded-" + plane).data = { x, y: run.loss };
        this.find("gap-surface-" + plane).data = { x, y: path.surface };
        this.find("distance-" + plane).data = { x, y: path.distance };
        if (this.named) {
          this.find("gap-title-" + plane).text = this.spec.titles.gap + " (" + run.name + ")";
          this.find("distance-title-" + plane).text = this.spec.titles.distance + " (" + run.name + ")";
        }
      }
    }

    // One step: only our layer is drawn, no Bokeh model is touched.
    setEpoch(epoch) {
      this.epoch = epoch;
      this.at = this.runs.map((r) => Math.min(epoch, r.epochs));
      const run = this.runs[this.focus], frame = run.frameAt[epoch];
      if (frame !== this.frame) {
        this.frame = frame;
        this.regions.show(run.codes, frame, this.lut);
      }
      for (const layer of this.paths) layer.draw(this.at);
      for (const marker of this.markers) this.moveMarker(marker);
    }

    readout() {
      return readout(this.runs[this.focus], this.epoch, this.spec.max_epoch, this.named);
    }
  }

  /* ------------------------------------------------------------ embedding */

  let documents = 0;

  // Lays out every row of ``spec`` in ``plots`` at once (panels waiting for Bokeh keep their
  // plot's height, so nothing moves when they arrive) and embeds the rows the figure needs
  // to be interactive, as one Bokeh document; embedLater() embeds the rest as a second one.
  // Returns the panels by key (element and Bokeh view), a lookup of named models, remove().
  async function embedFigure(spec, plots, key) {
    plots.replaceChildren();
    plots.classList.remove("la-plots--single", "la-plots--planes");
    plots.classList.add("la-plots--" + spec.layout_name);
    const now = [], later = [], rows = [];
    for (const row of spec.layout) {
      const rowEl = document.createElement("div");
      rowEl.className = "la-row la-row--" + row.columns;
      for (const cell of row.cells) {
        const cellEl = document.createElement("div");
        cellEl.className = "la-cell la-span-" + cell.span;
        for (const panelKey of cell.keys) {
          const panel = document.createElement("div");
          panel.className = "la-panel la-panel--" + panelKey.split("-")[0];
          panel.id = plots.id + "-" + panelKey;
          panel.style.minHeight = spec.items[panelKey].doc.roots[0].attributes.height + "px";
          cellEl.appendChild(panel);
          (spec.first.includes(panelKey) ? now : later).push({ key: panelKey, el: panel });
        }
        rowEl.appendChild(cellEl);
      }
      plots.appendChild(rowEl);
      rows.push(rowEl);
    }
    const managers = [], docs = [];
    const embedding = {
      panels: new Map(),
      laterEl: later.length ? later[0].el : plots,
      find(name) {
        for (const doc of docs) {
          const model = doc.get_model_by_name(name);
          if (model) return model;
        }
        throw new Error("no Bokeh model named " + name);
      },
      async embedLater() {
        if (later.length) await embedPanels(later);
      },
      remove() {
        for (const manager of managers) for (const view of [...manager.roots]) view.remove();
        for (const doc of docs) {
          const i = Array.isArray(Bokeh.documents) ? Bokeh.documents.indexOf(doc) : -1;
          if (i >= 0) Bokeh.documents.splice(i, 1);
        }
        managers.length = docs.length = 0;
        for (const row of rows) row.remove();
      },
    };

    async function embedPanels(panels) {
      // One document for these panels: Bokeh's per-document work (a Document, a
      // notifications view, their style sheets) once, not once per panel.
      const first = spec.items[panels[0].key].doc;
      const doc = { version: first.version, title: "", config: first.config, roots: [] };
      const roots = {}, root_ids = [];
      for (const { key: panelKey, el } of panels) {
        const item = spec.items[panelKey];
        doc.roots.push(...item.doc.roots);
        roots[item.root_id] = el.id;
        root_ids.push(item.root_id);
      }
      const docid = "la-doc-" + (++documents);
      const [manager] = await Bokeh.embed.embed_items({ [docid]: doc }, [{ docid, roots, root_ids }]);
      managers.push(manager);
      const byId = new Map(manager.roots.map((view) => [view.model.id, view]));
      for (const { key: panelKey, el } of panels) {
        const view = byId.get(spec.items[panelKey].root_id);
        if (docs.indexOf(view.model.document) < 0) docs.push(view.model.document);
        // Bokeh makes every plot's event layer a tab stop, with no name: a keyboard reader would
        // meet a dozen silent stops per figure. The controls above are the way in.
        view.canvas_view.events_el.tabIndex = -1;
        view.canvas_view.overlays.el.style.display = "none";
        spareCanvases(view);
        view.repainted.connect(() => spareCanvases(view));
        el.style.minHeight = "";
        embedding.panels.set(panelKey, { el, view });
        mark("la:" + key + ":panel:" + panelKey);
      }
    }

    try {
      await embedPanels(now);
    } catch (error) {
      embedding.remove();
      throw error;
    }
    return embedding;
  }

  /* ------------------------------------------------------------ one embedding at a time, nearest first */

  // A job runs a figure's script and embeds its panels; the next one starts when it is done.
  const scheduler = {
    jobs: [],
    busy: false,
    first: null,  // the figure the address named at load: it goes first

    distance(el) {
      const box = el.getBoundingClientRect();
      const away = box.bottom < 0 ? -box.bottom : box.top > innerHeight ? box.top - innerHeight : 0;
      return this.first && this.first.contains(el) ? -1 : away;
    },

    run(el, job) {
      return new Promise((resolve, reject) => { this.jobs.push({ el, job, resolve, reject }); this.pump(); });
    },

    pump() {
      if (this.busy || !this.jobs.length) return;
      this.jobs.sort((a, b) => this.distance(a.el) - this.distance(b.el));
      const next = this.jobs.shift();
      this.busy = true;
      Promise.resolve().then(next.job).then(next.resolve, next.reject).finally(() => { this.busy = false; this.pump(); });
    },
  };

  /* ------------------------------------------------------------ the address: what the reader sees, as a link */

  const address = {
    timer: 0,
    since: 0,  // when the first change not yet in the address happened
    from: null,

    parse(hash) {
      // "#fig-x?epoch=3&run=sgd" -> {id: "fig-x", params}; null for any other fragment.
      const text = (hash || "").replace(/^#/, ""), cut = text.indexOf("?");
      const id = cut < 0 ? text : text.slice(0, cut);
      return id.startsWith("fig-") ? { id, params: new URLSearchParams(cut < 0 ? "" : text.slice(cut + 1)) } : null;
    },

    hash(player) {
      return "#" + player.root.id + "?" + player.params().toString();
    },

    link(player) {
      return location.href.split("#")[0] + this.hash(player);
    },

    write(player) {
      // history.replaceState, not one history entry per step, and not at every step (see ADDRESS_*).
      this.from = player;
      const now = performance.now();
      if (!this.timer) this.since = now;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), Math.max(0, Math.min(ADDRESS_SETTLE_MS, this.since + ADDRESS_MAX_MS - now)));
    },

    flush() {
      this.timer = 0;
      const hash = this.hash(this.from);
      if (location.hash !== hash) history.replaceState(history.state, "", hash);
    },

    follow() {
      // Load, back/forward, an edited address or a link: a figure's state in the address is applied.
      const target = this.parse(location.hash);
      if (!target) return null;
      const player = [...players.values()].find((p) => p.root.id === target.id);
      if (!player) return null;
      if ([...target.params.keys()].length) {
        player.restore(target.params);
        // The fragment is not an element id, so the browser does not scroll to the figure.
        if (!nearViewport(player.root)) player.root.scrollIntoView({ block: "start" });
      }
      return player;
    },
  };

  function nearViewport(el) {
    const box = el.getBoundingClientRect();
    return box.top < innerHeight && box.bottom > 0 && box.top > -innerHeight / 2;
  }

  /* ------------------------------------------------------------ controls */

  const reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  class Player {
    constructor(root, key) {
      this.root = root;
      this.key = key;  // the figure's slug, or "explorer"
      const find = (selector) => root.querySelector(selector);
      this.plots = find(".la-plots");
      this.slider = find(".la-epoch");
      this.playButton = find(".la-play");
      this.backButton = find(".la-back");
      this.forwardButton = find(".la-forward");
      this.runSelect = find(".la-run");
      this.stretchButton = find(".la-stretch");
      this.sharedButton = find(".la-shared");
      this.speedSelect = find(".la-speed");
      this.loopButton = find(".la-loop");
      this.copyButton = find(".la-copy");
      this.linkField = find(".la-link");
      this.status = find(".la-status");
      this.output = find(".la-readout");
      this.scene = null;
      this.embedding = null;
      this.token = 0;  // the latest load; an older one that finishes late is dropped
      this.playing = false;
      this.visible = false;
      this.autoplayed = false;
      this.touched = false;  // a reader who used the controls (or a link) is never overridden by autoplay
      this.wanted = null;  // the epoch the next animation frame shows
      this.pending = null;  // state from the address, applied once the figure is ready
      this.wire();
    }

    // The epoch the reader chose: the one the next frame draws, when one is on its way.
    get epoch() { return this.frameRequest ? this.wanted : this.scene ? this.scene.epoch : Number(this.slider.value); }
    get maxEpoch() { return this.scene ? this.scene.spec.max_epoch : Number(this.slider.max); }

    wire() {
      const touch = () => { this.touched = true; };
      const moved = () => { touch(); this.remember(); };
      this.slider.addEventListener("input", () => { touch(); this.pause(); this.request(Number(this.slider.value)); });
      this.playButton.addEventListener("click", () => { touch(); this.playing ? this.pause() : this.play(); });
      this.backButton.addEventListener("click", () => { touch(); this.pause(); this.show(this.epoch - 1); });
      this.forwardButton.addEventListener("click", () => { touch(); this.pause(); this.show(this.epoch + 1); });
      if (this.runSelect) {
        this.runSelect.addEventListener("change", () => {
          if (this.scene) this.scene.setFocus(Number(this.runSelect.value));
          this.writeReadout();
          moved();
        });
      }
      for (const button of [this.stretchButton, this.sharedButton]) {
        if (!button) continue;
        button.addEventListener("click", () => {
          button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
          this.applyLandscape();
          moved();
        });
      }
      if (this.loopButton) {
        this.loopButton.addEventListener("click", () => {
          touch();
          this.loopButton.setAttribute("aria-pressed", String(!this.looping));
        });
      }
      if (this.speedSelect) this.speedSelect.addEventListener("change", touch);
      if (this.copyButton) this.copyButton.addEventListener("click", () => this.copyLink());
    }

    get looping() { return !!this.loopButton && this.loopButton.getAttribute("aria-pressed") === "true"; }

    // The proportions and colour scale the reader chose, applied to whatever figure is shown.
    applyLandscape() {
      if (!this.scene) return;
      this.scene.setLandscape(pressed(this.stretchButton) ? "stretched" : "true", pressed(this.sharedButton) ? "shared" : "figure");
    }

    // The one way a figure gets its data: every failure, from fetching the script to building
    // the scene, ends up inside the figure as a message, never as an empty box.
    async load(slug, src) {
      const token = ++this.token;
      this.pause();
      this.setReady(false);
      try {
        preload(slug, src);
        await scheduler.run(this.plots, async () => {
          if (token !== this.token) return;
          const spec = await loadSpec(slug, src);
          if (token !== this.token) return;
          const keep = this.scene ? this.scene.epoch : null;
          this.detach();
          this.busy = true;
          this.setFar(false);
          mark("la:" + this.key + ":embed");
          const embedding = await embedFigure(spec, this.plots, this.key);
          mark("la:" + this.key + ":embedded");
          if (token !== this.token) { embedding.remove(); return; }
          this.attach(spec, embedding, keep);
        });
        const embedding = this.embedding;
        if (token !== this.token || !embedding) return;
        await scheduler.run(embedding.laterEl, async () => {
          if (token !== this.token) return;
          this.setFar(false);
          await embedding.embedLater();
          if (token !== this.token) return;
          this.scene.laterArrived();
          mark("la:" + this.key + ":complete");
        });
      } catch (error) {
        if (token === this.token) this.fail(error);
      } finally {
        if (token === this.token) { this.busy = false; this.setFar(this.far); }
      }
    }

    detach() {
      if (this.embedding) this.embedding.remove();
      this.embedding = this.scene = null;
    }

    attach(spec, embedding, keep) {
      this.embedding = embedding;
      this.scene = new Scene(spec, embedding);
      this.slider.max = String(spec.max_epoch);
      if (this.runSelect) this.scene.setFocus(Number(this.runSelect.value) || 0);
      this.applyLandscape();
      this.show(keep === null ? spec.max_epoch : Math.min(keep, spec.max_epoch));
      mark("la:" + this.key + ":scene");
      this.setReady(true);
      mark("la:" + this.key + ":ready");
      if (this.pending) {
        const params = this.pending;
        this.pending = null;
        this.restore(params);
      }
      this.maybeAutoplay();
    }

    fail(error) {
      this.setReady(false);
      this.detach();
      const note = document.createElement("p");
      note.className = "la-error";
      note.setAttribute("role", "alert");
      note.textContent = "This figure could not be loaded (" + (error && error.message ? error.message : error) + ").";
      this.plots.replaceChildren(note);
      this.output.textContent = "";
    }

    setReady(ready) {
      this.ready = ready;
      this.root.dataset.ready = String(ready);
      for (const control of [this.slider, this.playButton, this.backButton, this.forwardButton, this.runSelect,
        this.sharedButton, this.speedSelect, this.loopButton, this.copyButton]) {
        if (control) control.disabled = !ready;
      }
      if (this.stretchButton) this.stretchButton.disabled = !(ready && this.scene && this.scene.stretchable);
    }

    // Figures far from the viewport stop rendering: under software compositing every rendered
    // canvas is produced again at each frame, whatever changed (issue 12: 97 canvases per step
    // with five figures loaded, 36 with only the one on screen and a neighbour).
    setFar(far) {
      this.far = far;
      const hide = far && !this.busy && !!this.scene;
      if (hide === this.plots.classList.contains("la-far")) return;
      if (hide) this.plots.style.containIntrinsicBlockSize = "auto " + Math.round(this.plots.offsetHeight) + "px";
      this.plots.classList.toggle("la-far", hide);
    }

    request(epoch) {
      // Input events can come faster than frames: draw once per frame, the latest value.
      this.wanted = epoch;
      if (!this.frameRequest) {
        this.frameRequest = requestAnimationFrame(() => { this.frameRequest = 0; this.show(this.wanted); });
      }
    }

    show(epoch) {
      if (!this.scene) return;
      if (this.frameRequest) { cancelAnimationFrame(this.frameRequest); this.frameRequest = 0; }
      const e = Math.max(0, Math.min(this.maxEpoch, Math.round(epoch)));
      this.scene.setEpoch(e);
      if (Number(this.slider.value) !== e) this.slider.value = String(e);
      this.slider.setAttribute("aria-valuetext", "epoch " + e + " of " + this.maxEpoch);
      this.writeReadout();
      if (this.touched) this.remember();
    }

    writeReadout() {
      if (this.scene) this.output.textContent = this.scene.readout();
    }

    remember() {
      if (this.scene) address.write(this);
    }

    // What the reader sees, as the address's parameters (defaults left out, but the epoch).
    params() {
      const params = new URLSearchParams();
      if (this.key === "explorer" && this.root.dataset.slug) params.set("net", this.root.dataset.slug);
      params.set("epoch", String(this.epoch));
      if (this.scene && this.scene.named) params.set("run", this.scene.runs[this.scene.focus].name);
      if (pressed(this.stretchButton)) params.set("view", "stretched");
      if (pressed(this.sharedButton)) params.set("scale", "shared");
      return params;
    }

    // Applies an address's parameters; anything missing or invalid takes its default.
    restore(params) {
      this.touched = true;
      this.pause();
      if (!this.ready) { this.pending = params; return; }
      const scene = this.scene;
      const runIndex = scene.runs.findIndex((r) => r.name === params.get("run"));
      if (this.runSelect) {
        this.runSelect.value = String(Math.max(0, runIndex));
        scene.setFocus(Math.max(0, runIndex));
      }
      if (this.stretchButton) this.stretchButton.setAttribute("aria-pressed", String(params.get("view") === "stretched" && scene.stretchable));
      if (this.sharedButton) this.sharedButton.setAttribute("aria-pressed", String(params.get("scale") === "shared"));
      this.applyLandscape();
      const epoch = params.get("epoch");
      this.show(/^\d+$/.test(epoch || "") && Number(epoch) <= this.maxEpoch ? Number(epoch) : this.maxEpoch);
    }

    async copyLink() {
      const link = address.link(this);
      this.remember();
      try {
        if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
        await navigator.clipboard.writeText(link);
        this.linkField.hidden = true;
        this.status.textContent = "Link copied";
      } catch (error) {
        // No clipboard here (a file:// page, an older browser, a denied permission): show the
        // link, selected, for the reader to copy.
        this.linkField.value = link;
        this.linkField.hidden = false;
        this.linkField.focus();
        this.linkField.select();
        this.status.textContent = "Copy the selected link";
      }
    }

    play() {
      if (!this.scene) return;
      if (this.epoch >= this.maxEpoch) this.show(0);
      this.playing = true;
      this.output.setAttribute("aria-live", "off");  // do not read out sixty epochs a second
      this.playButton.setAttribute("aria-label", "Pause");
      this.playButton.classList.add("is-playing");
      let last = performance.now(), owed = 0;
      const tick = (now) => {
        if (!this.playing) return;
        owed += ((now - last) * this.rate) / 1000;
        last = now;
        const step = Math.floor(owed);
        if (step > 0) {
          owed -= step;
          const next = this.epoch + step;
          this.show(next > this.maxEpoch && this.looping && this.epoch >= this.maxEpoch ? 0 : next);
        }
        if (this.epoch >= this.maxEpoch && !this.looping) this.pause(); else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }

    get rate() {
      // Epochs per second: a long run plays in about PLAY_SECONDS at 1×, times the chosen speed.
      const speed = this.speedSelect ? Number(this.speedSelect.value) : 1;
      return Math.min(MAX_RATE, Math.max(MIN_RATE, this.maxEpoch / PLAY_SECONDS)) * (speed > 0 ? speed : 1);
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
        slug: this.scene ? this.scene.spec.slug : null, view: this.scene ? this.scene.view : null,
        scale: this.scene ? this.scene.scaleKey : null,
        run: this.scene ? this.scene.runs[this.scene.focus].name : null, rate: this.rate,
        complete: !!this.embedding && this.embedding.panels.size === Object.keys(this.scene.spec.items).length };
    }
  }

  const pressed = (button) => !!button && button.getAttribute("aria-pressed") === "true";

  /* ------------------------------------------------------------ explorer: one view, many experiments */

  class Explorer extends Player {
    constructor(root) {
      super(root, "explorer");
      this.choices = [...root.querySelectorAll(".la-choice")];
      for (const button of this.choices) {
        button.addEventListener("click", () => { this.touched = true; this.choose(button).then(() => this.remember()); });
      }
    }

    initialChoice() {
      const wanted = this.root.dataset.initial;
      return this.choices.find((b) => b.dataset.slug === wanted) || this.choices[0];
    }

    choose(button) {
      for (const b of this.choices) b.setAttribute("aria-pressed", String(b === button));
      this.root.dataset.slug = button.dataset.slug;
      return this.load(button.dataset.slug, button.dataset.src);
    }

    restore(params) {
      // The network first: its figure must load before the epoch and run can be applied.
      const button = this.choices.find((b) => b.dataset.slug === params.get("net")) || this.initialChoice();
      if (button.dataset.slug !== this.root.dataset.slug) {
        this.touched = true;
        this.pending = params;
        if (this.started) this.choose(button); else this.root.dataset.initial = button.dataset.slug;
        return;
      }
      super.restore(params);
    }
  }

  /* ------------------------------------------------------------ start-up */

  function start(player, load) {
    const near = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { near.disconnect(); player.started = true; load(); }
    }, { rootMargin: NEAR });
    near.observe(player.root);
    const seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const tall = e.rootBounds ? e.intersectionRect.height >= 0.5 * e.rootBounds.height : false;
        player.setVisible(e.isIntersecting && (e.intersectionRatio >= 0.3 || tall));
      }
    }, { threshold: [0, 0.1, 0.2, 0.3, 0.5, 0.75] });
    seen.observe(player.root);
    const rendered = new IntersectionObserver((entries) => {
      for (const e of entries) player.setFar(!e.isIntersecting);
    }, { rootMargin: RENDERED });
    rendered.observe(player.plots);
  }

  function init() {
    const loads = new Map();
    for (const root of document.querySelectorAll(".la-figure[data-src]")) {
      const player = new Player(root, root.dataset.slug);
      players.set(root.dataset.slug, player);
      loads.set(player, () => player.load(root.dataset.slug, root.dataset.src));
    }
    for (const root of document.querySelectorAll(".la-explorer")) {
      const explorer = new Explorer(root);
      players.set("explorer", explorer);
      loads.set(explorer, () => explorer.choose(explorer.initialChoice()));
    }
    const linked = address.follow();
    if (linked) {
      // A link to a figure: ask for its script now and embed it before any other.
      scheduler.first = linked.root;
      linked.started = true;
      loads.get(linked)();
    }
    for (const [player, load] of loads) if (player !== linked) start(player, load);
    if (linked) start(linked, () => {});
    // Back, forward, a followed link or an edited address: every such move between our entries
    // changes the fragment, so hashchange alone sees them (popstate would apply each one twice).
    window.addEventListener("hashchange", () => address.follow());
  }

  window.lossarticle = {
    register,
    // For the tests and the console:
    state: (key) => (players.has(key) ? players.get(key).state() : null),
    panel: (key, panel) => {
      const player = players.get(key);
      const found = player && player.embedding ? player.embedding.panels.get(panel) : null;
      return found ? found.view : null;
    },
    format: { number: formatNumber, percent: formatPercent },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
