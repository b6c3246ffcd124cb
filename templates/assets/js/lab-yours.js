/* lab-yours.js: "Your run", the optimizers figure's lab. The reader picks an optimizer, a learning rate (log
 * scale) and its second number (β₁, momentum or α); the worker trains the figure's network from the figure's θ₀
 * on its training points and projects every epoch on the figure's first plane, as project.py does. The path and
 * the curves are drawn over the figure's own plots (lab.js's ReaderLayer), the decision regions beside them, and
 * the panel says from which epoch the path is far from the plane (the payload's rule).
 *
 * Uses lab.js (LabPanel, RunSeries, FrameDrawer, ReaderLayer, labArray, mark), regions.js (colourLut), format.js,
 * address.js (the settings in the figure's address, through LabPanel.follow and the player's remember).
 */
// The four choices of the optimizer control (the template's options): the name of the second number, its default
// when no stored run has one, and what the trainer takes for the choice, its learning rate and second number.
const OPTIMIZER_CHOICES = {
  adam: { second: "β₁", secondDefault: 0.9, settings: (lr, beta1) => ({ kind: "adam", lr, beta1 }) },
  sgd: { second: null, secondDefault: 0, settings: (lr) => ({ kind: "sgd", lr, momentum: 0 }) },
  momentum: { second: "momentum μ", secondDefault: 0.9, settings: (lr, momentum) => ({ kind: "sgd", lr, momentum }) },
  rmsprop: { second: "α (smoothing)", secondDefault: 0.99, settings: (lr, alpha) => ({ kind: "rmsprop", lr, alpha }) },
};

// "Your run": the reference network again from θ₀ with the reader's optimizer, on the figure's own maps.
class YourRunLab extends LabPanel {
  build(payload) {
    this.theta0 = labArray(payload.theta0);
    this.plane = { origin: labArray(payload.plane.origin), d1: labArray(payload.plane.d1), d2: labArray(payload.plane.d2) };
    this.regionAxes = { xs: labArray(payload.region_axes.x), ys: labArray(payload.region_axes.y) };
    this.form = labForm(this.body, payload);
    this.form.train.addEventListener("click", () => { this.player.touched = true; this.train(this.form.read()); this.player.remember(); });
    this.form.stop.addEventListener("click", () => this.stopTraining());
    this.canvas = this.body.querySelector(".la-lab-regions");
    this.readout = this.body.querySelector(".la-lab-readout");
    this.warning = this.body.querySelector(".la-lab-warning");
    this.layers = [];
    this.series = null;
    this.settings = null;  // what the reader trained last: it goes into the figure's address
    this.drawer = new FrameDrawer(() => this.draw());
    this.regionLayer = null;
  }

  // The reader's settings, as address.js writes them; null before a first run.
  get wanted() { return this.settings || null; }  // null before the panel opened, too

  // An address asked for a run: open the panel and train it.
  async restore(settings) {
    await this.open();
    this.form.write(settings);
    this.train(this.form.read());
  }

  train(settings) {
    this.settings = settings;
    const id = ++this.runId, epochs = this.payload.net.epochs;
    this.series = new RunSeries(epochs, this.payload.net.sizes.length - 2);
    this.farFrom = null;
    this.attachLayers();
    const worker = this.restartWorker((message) => this.receive(id, message));
    const { X, y } = this.trainingData();
    worker.postMessage({
      type: "train", id, sizes: this.payload.net.sizes, skip: this.payload.net.skip, theta0: this.theta0,
      X, y, epochs, optimizer: OPTIMIZER_CHOICES[settings.choice].settings(settings.lr, settings.second),
      plane: this.plane, regions: { xs: this.regionAxes.xs, ys: this.regionAxes.ys, every: 10 },
    });
    this.form.busy(true);
    this.status.textContent = "Training in your browser…";
    mark("la:lab:" + this.slug + ":train");
  }

  stopTraining() {
    this.stop();
    this.form.busy(false);
    if (this.series && !this.series.done) this.status.textContent = "Stopped at epoch " + this.series.last + ".";
  }

  receive(id, message) {
    if (id !== this.runId || !this.series) return;
    if (message.type === "epochs") {
      if (this.series.count === 0) mark("la:lab:" + this.slug + ":first");
      const from = this.series.count;
      this.series.add(message);
      // Every new epoch is checked, not only the drawn one: the warning names the first far epoch.
      for (let e = from; this.farFrom === null && e < this.series.count; e++) {
        if (this.farShare(e) > this.payload.far) this.farFrom = e;
      }
      this.drawer.soon();
    } else if (message.type === "regions") {
      this.regions = message;
      this.drawer.soon();
    } else if (message.type === "done") {
      this.series.done = true;
      this.series.diverged = !!message.diverged;
      mark("la:lab:" + this.slug + ":trained");
      this.form.busy(false);
      this.status.textContent = message.diverged
        ? "Diverged at epoch " + message.epochs + ": the loss overflowed." : "Done: " + message.epochs + " epochs.";
      this.drawer.soon();
    } else if (message.type === "error") {
      this.status.textContent = "The trainer failed: " + message.message;
      this.form.busy(false);
    }
  }

  // The reader's path on every landscape, loss and accuracy curves on the figure's curve plots.
  attachLayers() {
    for (const layer of this.layers) layer.remove();
    this.layers = [];
    const scene = this.player.scene;
    if (!scene) return;
    const colour = this.payload.reader_colour, s = () => this.series;
    for (const panel of scene.panels) {
      if (panel.kind === "landscape" && panel.plane === this.payload.plane.method) {
        this.layers.push(new ReaderLayer(panel, colour, () => ({ x: s().a, y: s().b, end: s().last })));
      } else if (panel.kind === "loss") {
        this.layers.push(new ReaderLayer(panel, colour, () => ({ x: epochAxis(s().epochs + 1), y: s().loss, end: s().last })));
      } else if (panel.kind === "accuracy") {
        const percent = () => s().accuracy.map((v) => 100 * v);
        this.layers.push(new ReaderLayer(panel, colour, () => ({ x: epochAxis(s().epochs + 1), y: percent(), end: s().last })));
      }
    }
  }

  // A panel the figure embedded after the reader's run started.
  adopt(panel) {
    if (this.series && ["landscape", "loss", "accuracy"].includes(panel.kind)) this.attachLayers();
  }

  draw() {
    const series = this.series;
    if (!series || series.count === 0) return;
    for (const layer of this.layers) layer.draw();
    const e = series.last, away = this.farShare(e);
    this.readout.textContent = "Your run · epoch " + e + " / " + series.epochs + " · loss " + lossText(series.loss[e])
      + " · train " + percentText(series.accuracy[e]) + " · " + formatNumber(series.distance[e]) + " from the plane ("
      + formatPercent(away, 0) + " of its distance from the centre)";
    this.warning.hidden = this.farFrom === null;
    if (this.farFrom !== null) {
      this.warning.textContent = "From epoch " + this.farFrom + " your run is far from this plane: more than "
        + formatPercent(this.payload.far, 0) + " of its distance from the centre is out of the picture, so the map "
        + "under its drawn point no longer describes where it is.";
    }
    if (this.regions) this.drawRegions(this.regions);
  }

  // The distance left out of the picture, as a share of the distance from the map's centre.
  farShare(epoch) {
    const s = this.series, [l1, l2] = this.payload.plane.lengths;  // |d1|, |d2|: weight-space length of a unit
    const inPlane = Math.hypot(s.a[epoch] * l1, s.b[epoch] * l2), out = s.distance[epoch];
    const whole = Math.hypot(inPlane, out);
    return whole > 0 ? out / whole : 0;
  }

  drawRegions(message) {
    const [w, h] = [this.regionAxes.xs.length, this.regionAxes.ys.length];
    if (!this.regionLayer) this.regionLayer = new LabRegions(this.canvas, w, h, this.payload.classes);
    this.regionLayer.show(message.label);
    this.body.querySelector(".la-lab-regions-epoch").textContent = "your run's decision regions at epoch " + message.epoch;
  }
}

// The decision regions of a reader's run: a class per grid point (label[iy][ix], row 0 at the bottom), in the
// figure's class colours at full confidence (the trainer sends the class alone).
class LabRegions {
  constructor(canvas, w, h, classes) {
    canvas.width = w;
    canvas.height = h;
    this.w = w; this.h = h;
    this.ctx = canvas.getContext("2d");
    this.image = new ImageData(w, h);
    this.pixels = new Uint32Array(this.image.data.buffer);
    this.lut = colourLut(classes, 1);  // one confidence level: full
  }

  show(label) {
    const { w, h, pixels, lut } = this;
    for (let iy = 0, j = 0; iy < h; iy++) {
      for (let ix = 0, o = (h - 1 - iy) * w; ix < w; ix++, j++, o++) pixels[o] = lut[(label[j] << 1) | 1];
    }
    this.ctx.putImageData(this.image, 0, 0);
  }
}

// The your-run controls, built when the panel opens: optimizer, learning rate (log scale), its second number.
function labForm(body, payload) {
  const find = (selector) => body.querySelector(selector);
  const choice = find(".la-lab-optimizer"), lr = find(".la-lab-lr"), lrText = find(".la-lab-lr-value");
  const second = find(".la-lab-second"), secondText = find(".la-lab-second-value"), secondLabel = find(".la-lab-second-name");
  const [low, high] = payload.lr_range;
  lr.min = String(Math.log10(low));
  lr.max = String(Math.log10(high));
  const stored = Object.fromEntries(payload.runs.map((run) => [run.momentum > 0 ? "momentum" : run.kind, run]));
  const showNumbers = () => {
    lrText.textContent = formatNumber(Math.pow(10, Number(lr.value)), 2);
    secondText.textContent = String(Number(second.value));
  };
  const showChoice = (fromStored) => {
    const c = OPTIMIZER_CHOICES[choice.value];
    second.closest("label").hidden = c.second === null;
    secondLabel.textContent = c.second || "";
    if (fromStored) {
      const run = stored[choice.value];
      lr.value = String(Math.log10(run ? run.lr : 1e-2));
      second.value = String(run && run.momentum > 0 ? run.momentum : c.secondDefault);
    }
    showNumbers();
  };
  choice.addEventListener("change", () => showChoice(true));
  lr.addEventListener("input", showNumbers);
  second.addEventListener("input", showNumbers);
  showChoice(true);
  const form = {
    train: find(".la-lab-train"),
    stop: find(".la-lab-stop"),
    // The learning rate to three significant digits: what the label shows is what trains, and what a link keeps.
    read: () => ({ choice: choice.value, lr: Number(Math.pow(10, Number(lr.value)).toPrecision(3)),
      second: OPTIMIZER_CHOICES[choice.value].second === null ? 0 : Number(second.value) }),
    write: (settings) => {
      choice.value = settings.choice in OPTIMIZER_CHOICES ? settings.choice : "adam";
      showChoice(true);
      if (Number.isFinite(settings.lr)) lr.value = String(Math.log10(Math.min(high, Math.max(low, settings.lr))));
      if (Number.isFinite(settings.second)) second.value = String(Math.min(0.999, Math.max(0, settings.second)));
      showNumbers();
    },
    busy: (busy) => { form.train.disabled = busy; form.stop.disabled = !busy; },
  };
  return form;
}
