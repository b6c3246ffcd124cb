/* lab.js: the labs, where a reader trains networks in their own browser (lossarticle/lab.py says which and
 * with what). A lab panel loads nothing until the reader opens it; then its payload (lab/<slug>.js, a
 * registerLab call) and the trainer (assets/trainer.js, a registerTrainer call) arrive as scripts of our own
 * origin, and the trainer runs in a Web Worker started from a blob: URL of its own text (the page's CSP allows
 * workers from blob: only; a worker from a file would be refused on a page opened from file://). The worker
 * streams epochs as it trains; the main thread only draws, once per animation frame.
 *
 * This part holds what every lab shares: loading, the worker, the payload's arrays, a run's growing series, the
 * panel's life (open, follow the address, stop) and ReaderLayer, a series drawn over one of the figure's plots.
 * The labs themselves: lab-yours.js ("your-run": the reader's path on the figure's own maps, beside the stored
 * runs) and lab-dice.js ("dice": a net and its twin from one fresh seed, on the reader's own map). Every rule
 * a reader's run is judged by comes in the payload.
 *
 * Uses layers.js (Placement, cover, visibleVertices, SVG), bokeh.js (a plot's repaints), format.js.
 */
const labPayloads = new Map();  // slug -> payload, as registered by lab/<slug>.js
let trainerFactory = null;  // assets/trainer.js's function, once registered
const labScripts = new Map();  // src -> the promise of its script having run

function registerLab(slug, payload) { labPayloads.set(slug, payload); }
function registerTrainer(factory) { trainerFactory = factory; }

// A script of our own origin, once. A script's load event comes after it ran, so what it registers is there then;
// after an error, the next call tries again.
function loadOnce(src) {
  if (!labScripts.has(src)) {
    labScripts.set(src, new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = src;
      tag.async = true;
      tag.addEventListener("load", () => resolve());
      tag.addEventListener("error", () => { tag.remove(); labScripts.delete(src); reject(new Error("could not load " + src)); });
      document.head.appendChild(tag);
    }));
  }
  return labScripts.get(src);
}

async function loadLab(slug, src, trainerSrc) {
  await Promise.all([loadOnce(src), loadOnce(trainerSrc)]);
  if (!labPayloads.has(slug) || trainerFactory === null) throw new Error(src + " or " + trainerSrc + " registered nothing");
  return labPayloads.get(slug);
}

function startWorker() {
  const url = URL.createObjectURL(new Blob(["(" + trainerFactory + ")(self);\n"], { type: "text/javascript" }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);  // the worker has fetched it
  return worker;
}

// A payload's array (lab.py packed: dtype, shape, base64 little-endian bytes) as a typed array.
const LAB_ARRAYS = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array, int32: Int32Array };
function labArray(packed) {
  const binary = atob(packed.base64), bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new LAB_ARRAYS[packed.dtype](bytes.buffer);
}

// Growing per-epoch series of one reader's run, as the worker streams them.
class RunSeries {
  constructor(epochs, layers) {
    this.epochs = epochs;
    this.count = 0;  // epochs received (epoch 0 is θ₀)
    const make = () => new Float64Array(epochs + 1).fill(NaN);
    this.loss = make(); this.accuracy = make(); this.norm = make();
    this.a = make(); this.b = make(); this.distance = make();
    this.layers = layers;
    this.live = new Int16Array((epochs + 1) * layers);
    this.done = false;
    this.diverged = false;
  }

  add(message) {
    const n = message.loss.length, first = message.first;
    for (const key of ["loss", "accuracy", "norm", "a", "b", "distance"]) {
      if (message[key]) this[key].set(message[key], first);
    }
    if (message.live) this.live.set(message.live, first * this.layers);
    this.count = Math.max(this.count, first + n);
  }

  get last() { return this.count - 1; }
  liveAt(epoch) { return Array.from(this.live.subarray(epoch * this.layers, (epoch + 1) * this.layers)); }
}

// Draws once per animation frame, however many batches arrived.
class FrameDrawer {
  constructor(draw) { this.draw = draw; this.request = 0; }
  soon() {
    if (!this.request) this.request = requestAnimationFrame(() => { this.request = 0; this.draw(); });
  }
}

// One series over one of the figure's plots (a path over a landscape, a curve over the loss or accuracy plot):
// SVG over the plot's frame, placed like layers.js's PathLayer and placed again on each repaint.
class ReaderLayer {
  constructor(panel, colour, points) {
    this.points = points;  // () => {x, y, end}: data coordinates, and the last index to draw
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "la-paths la-reader");
    this.svg.setAttribute("aria-hidden", "true");
    this.line = document.createElementNS(SVG, "path");
    this.line.setAttribute("stroke", colour);
    this.dot = document.createElementNS(SVG, "circle");
    this.dot.setAttribute("r", "4");
    this.dot.setAttribute("fill", colour);
    this.svg.append(this.line, this.dot);
    panel.el.appendChild(this.svg);
    this.frame = null;
    this.placement = new Placement(panel.plotView, (frame) => {
      cover(this.svg, frame.bbox);
      this.svg.setAttribute("viewBox", [frame.bbox.left, frame.bbox.top, frame.bbox.width, frame.bbox.height].join(" "));
    });
    bokeh.onRepaint(panel.plotView, () => this.draw());
  }

  draw() {
    const frame = this.placement.update(), { x, y, end } = this.points();
    if (!frame || end < 0) return;
    const sx = frame.x_scale.v_compute(x.subarray(0, end + 1)), sy = frame.y_scale.v_compute(y.subarray(0, end + 1));
    const kept = visibleVertices(sx, sy);
    let d = "";
    for (const k of kept) if (Number.isFinite(sx[k]) && Number.isFinite(sy[k])) d += (d ? "L" : "M") + sx[k].toFixed(1) + "," + sy[k].toFixed(1);
    if (Number.isFinite(sx[end]) && Number.isFinite(sy[end])) d += (d ? "L" : "M") + sx[end].toFixed(1) + "," + sy[end].toFixed(1);
    this.line.setAttribute("d", d);
    const shown = Number.isFinite(sx[end]) && Number.isFinite(sy[end]);
    this.dot.setAttribute("visibility", shown ? "visible" : "hidden");
    if (shown) { this.dot.setAttribute("cx", sx[end].toFixed(1)); this.dot.setAttribute("cy", sy[end].toFixed(1)); }
  }

  remove() { this.svg.remove(); }
}

// The lab panel under a figure: the parts every lab shares (opening, loading, the worker, the status line).
class LabPanel {
  constructor(root, player) {
    this.root = root;
    this.player = player;
    this.slug = root.dataset.slug;
    this.opened = null;  // the promise of the payload, once the reader opened the panel
    this.asked = null;  // the last settings an address asked for (follow)
    this.payload = null;
    this.worker = null;
    this.runId = 0;
    this.openButton = root.querySelector(".la-lab-open");
    this.body = root.querySelector(".la-lab-body");
    this.status = root.querySelector(".la-lab-status");
    root.querySelector(".la-lab-about").hidden = true;  // it tells readers without a script what this does
    this.openButton.hidden = false;
    this.openButton.addEventListener("click", () => this.open());
  }

  open() {
    if (this.opened) return this.opened;
    this.openButton.setAttribute("aria-expanded", "true");
    this.openButton.disabled = true;
    this.body.hidden = false;
    this.status.textContent = "Loading the trainer…";
    this.opened = loadLab(this.slug, this.root.dataset.src, this.root.dataset.trainer).then((payload) => {
      this.payload = payload;
      mark("la:lab:" + this.slug + ":loaded");
      this.build(payload);
      this.openButton.hidden = true;  // the panel is open for good: its controls take the button's place
      this.status.textContent = "";
      this.root.dataset.ready = "true";
      return payload;
    }, (error) => {
      this.status.textContent = "The trainer could not be loaded (" + error.message + ").";
      throw error;
    });
    return this.opened;
  }

  get kind() { return this.root.dataset.lab; }

  // What an address asks of this lab (address.read: yours or dice); applied once, and not again while it stands.
  follow(wanted) {
    const asked = this.kind === "dice" ? wanted.dice : wanted.yours;
    if (asked === null || asked === undefined) return;
    const key = JSON.stringify(asked);
    if (key === this.asked) return;
    this.asked = key;
    this.restore(asked).catch(() => { /* open() has said why in the status line */ });
  }

  adopt(panel) { /* a figure panel arrived: only your-run draws on them */ }

  // A fresh worker for each training: stopping one is terminating it.
  restartWorker(onMessage) {
    if (this.worker) this.worker.terminate();
    this.worker = startWorker();
    this.worker.onmessage = (event) => onMessage(event.data);
    this.worker.onerror = (event) => { this.status.textContent = "The trainer failed: " + event.message; };
    return this.worker;
  }

  stop() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
  }

  trainingData() {
    return { X: labArray(this.payload.x), y: labArray(this.payload.y) };
  }
}

// The lab a .la-lab element asks for (lab.py's LABS).
function makeLab(root, player) {
  if (root.dataset.lab === "your-run") return new YourRunLab(root, player);
  if (root.dataset.lab === "dice") return new DiceLab(root, player);
  throw new Error("unknown lab " + root.dataset.lab);
}

