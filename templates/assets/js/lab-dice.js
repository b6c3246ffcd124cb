/* lab-dice.js: "Roll the dice", the twenty-layer section's lab. One fresh seed draws θ₀ for the plain net and its
 * skip twin (the same values: the two nets have the same layers), both train in the worker, and the page shows
 * live each one's loss and accuracy, its live units per layer (a dead layer visible as it dies), the outcome by
 * the article's rules among our stored initializations, and then the reader's own map: the PCA plane of the
 * path and a loss surface computed in the worker, coarse first, in the house colours and colour-scale rule.
 *
 * Uses lab.js (LabPanel, RunSeries, FrameDrawer, labArray), format.js.
 */
const MAX_SEED = 2 ** 31 - 1;

// The article's rules (measures.late, summaries.stuck_at_ln3, measures.FIT_ACCURACY), with the payload's numbers.
function lateMedian(values, epochs, share) {
  const count = Math.max(1, Math.ceil(share * epochs)), tail = Array.from(values.subarray(epochs + 1 - count, epochs + 1));
  if (!tail.every(Number.isFinite)) return NaN;
  tail.sort((p, q) => p - q);
  const middle = tail.length >> 1;
  return tail.length % 2 ? tail[middle] : (tail[middle - 1] + tail[middle]) / 2;
}

function outcomeOf(series, rules) {
  if (series.diverged) return "neither";
  const loss = lateMedian(series.loss, series.epochs, rules.late_fraction);
  const accuracy = lateMedian(series.accuracy, series.epochs, rules.late_fraction);
  if (Math.abs(loss - rules.ln3) < rules.stuck_tolerance) return "stuck";
  return accuracy >= rules.fit_accuracy ? "fit" : "neither";
}

const OUTCOME_WORDS = {
  stuck: "stuck at ln 3 at the end",
  fit: "holding 90 % training accuracy at the end",
  neither: "neither stuck at ln 3 nor holding 90 % at the end",
};

// The map's colours: log10 of the loss over the house ramp, by scales.figure_scale's rule (the maps' own range,
// at most clip_decades, at least min_decades wide around its middle).
function mapScale(loss, rules) {
  let low = Infinity, high = -Infinity;
  for (const v of loss) if (v > 0 && Number.isFinite(v)) { const l = Math.log10(v); low = Math.min(low, l); high = Math.max(high, l); }
  if (!Number.isFinite(low)) return { low: 0, high: 1 };
  high = Math.min(high, low + rules.clip_decades);
  if (high - low < rules.min_decades) {
    const middle = (low + high) / 2;
    return { low: middle - rules.min_decades / 2, high: middle + rules.min_decades / 2 };
  }
  return { low, high };
}

function hexPixel(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

// A line chart on a canvas: loss on a log axis (ln 3 dashed), training accuracy as a thin second line.
class MiniChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
  }

  draw(series, ln3) {
    const { ctx, canvas } = this, w = canvas.width, h = canvas.height, pad = 4;
    ctx.clearRect(0, 0, w, h);
    const low = -3, high = 1;  // loss from 0.001 to 10: where these nets' losses lie
    const x = (e) => pad + ((w - 2 * pad) * e) / series.epochs;
    const yLoss = (v) => h - pad - ((h - 2 * pad) * (Math.log10(Math.max(v, 1e-3)) - low)) / (high - low);
    const yAcc = (v) => h - pad - (h - 2 * pad) * v;
    ctx.strokeStyle = "#999";
    ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(pad, yLoss(ln3)); ctx.lineTo(w - pad, yLoss(ln3)); ctx.stroke();
    ctx.setLineDash([]);
    const line = (values, y, colour, width) => {
      ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
      let started = false;
      for (let e = 0; e < series.count; e++) {
        if (!Number.isFinite(values[e])) continue;
        started ? ctx.lineTo(x(e), y(values[e])) : ctx.moveTo(x(e), y(values[e]));
        started = true;
      }
      ctx.stroke();
    };
    line(series.accuracy, yAcc, "#0072B2", 1);
    line(series.loss, yLoss, "#000", 1.5);
  }
}

// Live units per hidden layer at the latest epoch: one cell per layer, as full as the share of its units alive.
class UnitsStrip {
  constructor(el, layers, width) {
    this.el = el;
    this.width = width;
    this.cells = Array.from({ length: layers }, () => {
      const cell = document.createElement("span");
      cell.className = "la-lab-unit";
      el.appendChild(cell);
      return cell;
    });
  }

  show(live) {
    live.forEach((count, i) => {
      const cell = this.cells[i];
      cell.style.opacity = String(0.15 + 0.85 * (count / this.width));
      cell.classList.toggle("is-dead", count === 0);
      cell.title = "layer " + (i + 1) + ": " + count + " of " + this.width + " units live";
    });
    const dead = live.filter((count) => count === 0).length;
    this.el.setAttribute("aria-label", dead ? dead + " of " + live.length + " layers dead" : "every layer alive");
  }
}

// The reader's own map: the loss surface image and the path over it, square (both axes one extent: true
// proportions), in the landscapes' palette.
class ReaderMap {
  constructor(el, rules) {
    this.el = el;
    this.rules = rules;
    this.image = el.querySelector(".la-lab-map-image");
    this.overlay = el.querySelector(".la-lab-map-path");
    this.caption = el.querySelector(".la-lab-map-caption");
    this.palette = Uint32Array.from(rules.palette, hexPixel);
  }

  show(map) {
    const n = map.xs.length, m = map.ys.length, scale = mapScale(map.loss, this.rules);
    this.image.width = n;
    this.image.height = m;
    const ctx = this.image.getContext("2d"), image = new ImageData(n, m), pixels = new Uint32Array(image.data.buffer);
    const top = this.palette.length - 1;
    for (let iy = 0; iy < m; iy++) {
      for (let ix = 0; ix < n; ix++) {
        const v = map.loss[iy * n + ix];
        const t = v > 0 && Number.isFinite(v) ? (Math.log10(v) - scale.low) / (scale.high - scale.low) : 1;
        pixels[(m - 1 - iy) * n + ix] = this.palette[Math.max(0, Math.min(top, Math.round(t * top)))];
      }
    }
    ctx.putImageData(image, 0, 0);
    this.drawPath(map);
    this.caption.textContent = "Your path on its own plane: PC1 holds " + formatPercent(map.shares[0]) + " and PC2 "
      + formatPercent(map.shares[1]) + " of it; " + n + " × " + m + " points, loss from " + formatNumber(10 ** scale.low)
      + " (light) to " + formatNumber(10 ** scale.high) + " (dark), true proportions.";
    this.el.dataset.resolution = String(n);
    this.shown = { map, scale };  // what is drawn, for the tests and the console
  }

  drawPath(map) {
    const size = this.overlay.width = this.overlay.height = 240, ctx = this.overlay.getContext("2d");
    const [x0, x1] = [map.xs[0], map.xs[map.xs.length - 1]], [y0, y1] = [map.ys[0], map.ys[map.ys.length - 1]];
    const px = (a) => ((a - x0) / (x1 - x0)) * size, py = (b) => size - ((b - y0) / (y1 - y0)) * size;
    const { a, b } = map.paths[0];
    ctx.clearRect(0, 0, size, size);
    ctx.strokeStyle = "#D55E00";
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (let i = 0; i < a.length; i++) i ? ctx.lineTo(px(a[i]), py(b[i])) : ctx.moveTo(px(a[i]), py(b[i]));
    ctx.stroke();
    ctx.fillStyle = "#D55E00";
    ctx.beginPath(); ctx.arc(px(a[a.length - 1]), py(b[b.length - 1]), 3.5, 0, 2 * Math.PI); ctx.fill();
  }
}

class DiceLab extends LabPanel {
  build(payload) {
    this.rollButton = this.body.querySelector(".la-lab-roll");
    this.stopButton = this.body.querySelector(".la-lab-stop");
    this.seedText = this.body.querySelector(".la-lab-seed");
    this.rollButton.addEventListener("click", () => {
      this.player.touched = true;
      this.roll(crypto.getRandomValues(new Uint32Array(1))[0] % MAX_SEED);
      this.player.remember();
    });
    this.stopButton.addEventListener("click", () => { this.stop(); this.busy(false); this.status.textContent = "Stopped."; });
    this.nets = payload.nets.map((net, i) => {
      const el = this.body.querySelectorAll(".la-lab-net")[i];
      el.querySelector(".la-lab-net-title").textContent = net.title;
      const width = net.sizes[1];
      return { net, el, chart: new MiniChart(el.querySelector(".la-lab-chart")),
        units: new UnitsStrip(el.querySelector(".la-lab-units"), net.sizes.length - 2, width),
        readout: el.querySelector(".la-lab-net-readout"), outcome: el.querySelector(".la-lab-outcome"),
        map: new ReaderMap(el.querySelector(".la-lab-map"), payload.map), series: null };
    });
    this.seed = null;
    this.drawer = new FrameDrawer(() => this.draw());
  }

  get wanted() { return this.seed === undefined ? null : this.seed; }  // null before the panel opened, too

  async restore(seed) {
    await this.open();
    this.roll(Math.min(seed, MAX_SEED));
  }

  busy(busy) { this.rollButton.disabled = busy; this.stopButton.disabled = !busy; }

  roll(seed) {
    this.seed = seed;
    const id = ++this.runId, { X, y } = this.trainingData();
    this.seedText.textContent = "seed " + seed + " (the page's own generator: our PyTorch seeds do not carry over)";
    const worker = this.restartWorker((message) => this.receive(id, message));
    this.mapsDone = 0;
    this.nets.forEach((entry, index) => {
      const { net } = entry;
      entry.series = new RunSeries(net.epochs, net.sizes.length - 2);
      entry.outcome.textContent = "";
      entry.map.el.hidden = true;
      worker.postMessage({ type: "train", id: id * 10 + index, sizes: net.sizes, skip: net.skip, seed, X, y,
        epochs: net.epochs, optimizer: net.optimizer });  // lab.run_settings; the trainer's defaults are PyTorch's
    });
    this.busy(true);
    this.status.textContent = "Training both networks in your browser…";
    this.coarseDrawn = false;
    mark("la:lab:" + this.slug + ":train");
  }

  receive(id, message) {
    const index = message.id % 10, entry = this.nets[index];
    if (Math.floor(message.id / 10) !== id || !entry) return;
    if (message.type === "epochs") {
      if (this.nets.every((n) => n.series.count === 0)) mark("la:lab:" + this.slug + ":first");
      entry.series.add(message);
    } else if (message.type === "done") {
      entry.series.done = true;
      entry.series.diverged = !!message.diverged;
      if (this.nets.every((n) => n.series.done)) mark("la:lab:" + this.slug + ":trained");
      const outcome = outcomeOf(entry.series, this.payload.rules), stored = entry.net;
      entry.outcome.textContent = "Yours is " + OUTCOME_WORDS[outcome] + ", like " + stored[outcome] + " of our "
        + stored.count + ".";
      entry.outcome.dataset.outcome = outcome;
      // Its own map: the PCA plane of its path, coarse first.
      this.worker.postMessage({ type: "map", id: message.id, runs: [message.id], resolution: this.payload.map.resolution,
        margin: this.payload.map.margin, coarse: this.payload.map.coarse });
      this.status.textContent = "Mapping your paths…";
    } else if (message.type === "map") {
      entry.map.el.hidden = false;
      entry.map.show(message);
      if (!this.coarseDrawn) { this.coarseDrawn = true; mark("la:lab:" + this.slug + ":coarse"); }
      if (message.final && ++this.mapsDone === this.nets.length) {
        mark("la:lab:" + this.slug + ":mapped");
        this.busy(false);
        this.status.textContent = "Done.";
      }
    } else if (message.type === "error") {
      this.status.textContent = "The trainer failed: " + message.message;
      this.busy(false);
    }
    this.drawer.soon();
  }

  draw() {
    for (const entry of this.nets) {
      const series = entry.series;
      if (!series || series.count === 0) continue;
      const e = series.last;
      entry.chart.draw(series, this.payload.rules.ln3);
      entry.units.show(series.liveAt(e));
      entry.readout.textContent = "epoch " + e + " / " + series.epochs + " · loss " + lossText(series.loss[e])
        + " · train " + percentText(series.accuracy[e]);
    }
  }
}
