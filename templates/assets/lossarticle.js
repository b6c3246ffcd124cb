/* lossarticle: drives the article's Bokeh figures from plain HTML controls.
 *
 * The page's CSP forbids eval, so no Bokeh CustomJS or widgets: each figure's
 * data arrives as figures/<slug>.js, which calls window.lossarticle.register,
 * and this file finds the Bokeh models by name and updates them in place.
 * Figures load when they come within a screen of the viewport.
 *
 * Milestones are left as User Timing marks, which DevTools shows and `generate.py bench`
 * reads back: "la:<slug>:request" (figure script inserted) and ":registered" (fetched,
 * parsed and run); per embedding, "la:<key>:embed" (key: the figure's slug, or
 * "explorer"), ":panel:<panel>" (one panel's Bokeh document rendered), ":embedded",
 * ":scene" (data decoded, curves filled, first epoch drawn) and ":ready". "la:script"
 * marks this file starting to run, i.e. BokehJS, deferred before it, has run.
 */
(function () {
  "use strict";

  const mark = (name) => { if (window.performance && performance.mark) performance.mark(name); };
  mark("la:script");

  const NEAR = "100% 0px 100% 0px";  // start loading one viewport ahead
  const MIN_RATE = 30, MAX_RATE = 100, PLAY_SECONDS = 12;  // epochs per second while playing
  const THIN = "\u202f";

  const specs = new Map();     // slug -> spec, as registered by figures/<slug>.js
  const waiting = new Map();   // slug -> [{resolve, reject}]
  const requested = new Set(); // slugs whose script tag was inserted
  const players = new Map();   // figure slug or "explorer" -> Player

  if (window.Bokeh && Bokeh.set_log_level) Bokeh.set_log_level("warn");

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

  /* ------------------------------------------------------------ numbers and words: the page's only formatter */

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
    constructor(spec, embedding) {
      this.spec = spec;
      const find = (name) => embedding.find(name);
      this.find = find;
      const panels = embedding.panels;
      this.panels = panels;
      this.runs = spec.runs.map((r) => prepareRun(r, spec));
      this.named = this.runs.length > 1;
      this.lut = colourLut(spec.classes, spec.confidence_bits);
      for (const plane of spec.planes) {
        for (const view of spec.landscapes[plane]) {
          // Filled once, before the first paint: the spec carries the loss packed, the plot a placeholder.
          const source = find("image-source-" + plane + "-" + view.name);
          source.data = { ...source.data, image: [unpackLoss(view.loss)] };
        }
      }
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
      this.markers = markerPanels.map((key) => overlayLine(panels.get(key)));
      this.colours = this.runs.map((r) => r.colour);
      this.lossNow = overlayDots(panels.get("loss"), this.colours);
      this.overlays = [...this.markers, this.lossNow];  // put back in place after a resize
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

    // Shows one view (true proportions or stretched) and one colour scale (the figure's or the
    // article's) in every landscape. A plane without the view asked for keeps its true one.
    setLandscape(viewName, scaleKey) {
      const scale = this.spec.scales[scaleKey];
      for (const plane of this.spec.planes) {
        const views = this.spec.landscapes[plane];
        const view = views.find((v) => v.name === viewName) || views[0];
        const plot = this.panels.get("landscape-" + plane).view.model;
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
      requestAnimationFrame(() => { for (const overlay of this.overlays) overlay.refresh(); });
    }

    get stretchable() {
      return this.spec.planes.some((plane) => this.spec.landscapes[plane].length > 1);
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

  /* ------------------------------------------------------------ embedding */

  // Embeds every panel of ``spec`` into ``plots`` and returns what the figure needs of them:
  // the panels by key (element and Bokeh view), a lookup of named models, and remove().
  // ``name`` labels the performance marks the reader bench reads.
  async function embedPanels(spec, plots, name) {
    plots.replaceChildren();
    plots.classList.remove("la-plots--single", "la-plots--planes");
    plots.classList.add("la-plots--" + spec.layout_name);
    const keys = [], targets = [], rows = [];
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
      rows.push(rowEl);
    }
    const managers = [];
    const embedding = {
      panels: new Map(),
      find(name) {
        for (const manager of managers) {
          const model = manager.roots[0].model.document.get_model_by_name(name);
          if (model) return model;
        }
        throw new Error("no Bokeh model named " + name);
      },
      remove() {
        for (const manager of managers) {
          const doc = manager.roots[0] ? manager.roots[0].model.document : null;
          for (const view of [...manager.roots]) view.remove();
          const i = doc && Array.isArray(Bokeh.documents) ? Bokeh.documents.indexOf(doc) : -1;
          if (i >= 0) Bokeh.documents.splice(i, 1);
        }
        managers.length = 0;
        for (const row of rows) row.remove();
      },
    };
    try {
      for (let i = 0; i < keys.length; i++) {
        managers.push(await Bokeh.embed.embed_item(spec.items[keys[i]], targets[i]));
        mark("la:" + name + ":panel:" + keys[i]);
        embedding.panels.set(keys[i], { el: document.getElementById(targets[i]), view: managers[i].roots[0] });
      }
    } catch (error) {
      embedding.remove();
      throw error;
    }
    return embedding;
  }

  /* ------------------------------------------------------------ controls */

  const reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  class Player {
    constructor(root) {
      this.root = root;
      this.plots = root.querySelector(".la-plots");
      this.slider = root.querySelector(".la-epoch");
      this.playButton = root.querySelector(".la-play");
      this.backButton = root.querySelector(".la-back");
      this.forwardButton = root.querySelector(".la-forward");
      this.runSelect = root.querySelector(".la-run");
      this.stretchButton = root.querySelector(".la-stretch");
      this.sharedButton = root.querySelector(".la-shared");
      this.output = root.querySelector(".la-readout");
      this.scene = null;
      this.embedding = null;
      this.token = 0;  // the latest load; an older one that finishes late is dropped
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
      this.slider.addEventListener("input", () => { touch(); this.pause(); this.show(Number(this.slider.value)); });
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
      for (const button of [this.stretchButton, this.sharedButton]) {
        if (!button) continue;
        button.addEventListener("click", () => {
          touch();
          button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
          this.applyLandscape();
        });
      }
    }

    // The proportions and colour scale the reader chose, applied to whatever figure is shown.
    applyLandscape() {
      if (!this.scene) return;
      const pressed = (button) => !!button && button.getAttribute("aria-pressed") === "true";
      this.scene.setLandscape(pressed(this.stretchButton) ? "stretched" : "true",
        pressed(this.sharedButton) ? "shared" : "figure");
    }

    // The one way a figure gets its data: every failure, from fetching the script to building
    // the scene, ends up inside the figure as a message, never as an empty box.
    async load(slug, src) {
      const token = ++this.token;
      this.pause();
      this.setReady(false);
      try {
        const spec = await loadSpec(slug, src);
        if (token !== this.token) return;
        const keep = this.scene ? this.scene.epoch : null;
        this.detach();
        mark("la:" + slug + ":embed");
        const embedding = await embedPanels(spec, this.plots, slug);
        mark("la:" + slug + ":embedded");
        if (token !== this.token) { embedding.remove(); return; }
        this.attach(spec, embedding, keep);
      } catch (error) {
        if (token === this.token) this.fail(error);
      }
    }

    detach() {
      if (this.embedding) this.embedding.remove();
      this.embedding = this.scene = null;
    }

    attach(spec, embedding, keep) {
      this.embedding = embedding;
      this.scene = new Scene(spec, embedding);
      mark("la:" + spec.slug + ":scene");
      if (!this.resizeWatch && window.ResizeObserver) {
        // Plots stretch with the page: put the overlays back once Bokeh has laid them out again.
        this.resizeWatch = new ResizeObserver(() => requestAnimationFrame(() => {
          if (this.scene) for (const overlay of this.scene.overlays) overlay.refresh();
        }));
        this.resizeWatch.observe(this.plots);
      }
      this.slider.max = String(spec.max_epoch);
      if (this.runSelect) this.scene.setFocus(Number(this.runSelect.value) || 0);
      this.applyLandscape();
      this.show(keep === null ? spec.max_epoch : Math.min(keep, spec.max_epoch));
      this.setReady(true);
      mark("la:" + spec.slug + ":ready");
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
        this.sharedButton]) {
        if (control) control.disabled = !ready;
      }
      if (this.stretchButton) this.stretchButton.disabled = !(ready && this.scene && this.scene.stretchable);
    }

    show(epoch) {
      if (!this.scene) return;
      const e = Math.max(0, Math.min(this.maxEpoch, Math.round(epoch)));
      this.scene.setEpoch(e);
      if (Number(this.slider.value) !== e) this.slider.value = String(e);
      this.slider.setAttribute("aria-valuetext", "epoch " + e + " of " + this.maxEpoch);
      this.writeReadout();
    }

    writeReadout() {
      if (this.scene) this.output.textContent = this.scene.readout();
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
        slug: this.scene ? this.scene.spec.slug : null, view: this.scene ? this.scene.view : null,
        scale: this.scene ? this.scene.scaleKey : null };
    }
  }

  /* ------------------------------------------------------------ explorer: one view, many experiments */

  class Explorer extends Player {
    constructor(root) {
      super(root);
      this.choices = [...root.querySelectorAll(".la-choice")];
      for (const button of this.choices) {
        button.addEventListener("click", () => { this.touched = true; this.choose(button); });
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
  }

  /* ------------------------------------------------------------ start-up */

  function start(player, load) {
    const near = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { near.disconnect(); load(); }
    }, { rootMargin: NEAR });
    near.observe(player.root);
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
      const player = new Player(root);
      players.set(root.dataset.slug, player);
      start(player, () => player.load(root.dataset.slug, root.dataset.src));
    }
    for (const root of document.querySelectorAll(".la-explorer")) {
      const explorer = new Explorer(root);
      players.set("explorer", explorer);
      start(explorer, () => explorer.choose(explorer.initialChoice()));
    }
  }

  window.lossarticle = {
    register,
    state: (key) => (players.has(key) ? players.get(key).state() : null),  // for tests and the console
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
