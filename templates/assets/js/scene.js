/* scene.js: one figure's moving layer and the Bokeh models the page fills or switches.
 *
 * A scene is built once a figure's first panels are embedded; the others are handed to it as they arrive
 * (adopt). Each panel comes from embed.js as {key, kind, plane, epochAxis, el, plotView, models}: models holds
 * the Bokeh models the spec names for it, by role, so nothing here spells a model's name. A slider step
 * (setEpoch) touches no Bokeh model: only our layers are drawn.
 *
 * Uses decode.js, layers.js, proportions.js, regions.js, hover.js, format.js (readout), bokeh.js (a plot's ranges).
 */
class Scene {
  constructor(spec) {
    this.spec = spec;
    this.runs = spec.runs.map((raw) => prepareRun(raw, spec));
    this.named = this.runs.length > 1;  // several runs: the readout and the strips' titles name the focused one
    this.focus = 0;  // index of the run the regions and the strips show
    this.epoch = spec.max_epoch;
    this.runEpochs = this.runs.map((run) => Math.min(this.epoch, run.epochs));  // each run stops at its last epoch
    this.frame = -1;  // the regions' snapshot frame on show; -1: none yet
    this.regions = null;  // RegionLayer, once the regions panel is in
    this.hover = null;  // RegionHover, likewise
    this.paths = [];  // a PathLayer per landscape
    this.markers = [];  // a Marker per panel whose x axis is the epoch
    this.landscapes = [];  // panels of kind "landscape"
    this.panels = [];  // every panel adopted so far
    this.onAdopt = null;  // called with each panel adopted (a lab draws on the figure's plots: lab.js)
    this.strips = [];  // panels of kind "gap" and "distance": they show the focused run
    this.viewName = null;  // the landscapes' view ("true" proportions or "stretched"); null before the first choice
    this.scaleKey = null;  // the landscapes' colour scale ("figure", "shared" or "local")
  }

  get stretchable() {
    return this.spec.planes.some((plane) => this.spec.landscapes[plane].length > 1);
  }

  get focusedRun() { return this.runs[this.focus]; }

  // A nearly flat figure's scale fitted to its maps alone, which the reader may ask for (scales.py).
  get localScale() { return "local" in this.spec.scales; }

  // Panels just embedded: fill them, draw on them, show them what the figure shows.
  adopt(panels) {
    for (const panel of panels) {
      if (panel.kind === "regions") this.adoptRegions(panel);
      else if (panel.kind === "landscape") this.adoptLandscape(panel);
      else if (panel.kind === "loss") this.fillLoss(panel);
      else if (panel.kind === "accuracy") this.fillAccuracy(panel);
      else if (panel.kind === "gap" || panel.kind === "distance") this.adoptStrip(panel);
      else if (panel.kind === "units" || panel.kind === "sharpness") { /* drawn whole by Bokeh: only marked */ }
      else throw new Error("a panel of unknown kind " + panel.kind);
      if (panel.epochAxis) this.addMarker(panel);
      this.panels.push(panel);
      if (this.onAdopt) this.onAdopt(panel);
    }
  }

  adoptRegions(panel) {
    this.regions = new RegionLayer(panel, this.spec);
    this.hover = new RegionHover(panel, this);
    this.frame = -1;
    this.showRegions();
  }

  adoptLandscape(panel) {
    // Filled once: the spec carries each view's loss packed, the plot a placeholder of its shape.
    for (const view of this.spec.landscapes[panel.plane]) {
      const source = panel.models.views[view.name].source;
      source.data = { ...source.data, image: [unpackLoss(view.loss)] };
    }
    new TrueProportions(panel, this.spec.landscapes[panel.plane][0]);  // the spec lists the true view first
    this.landscapes.push(panel);
    if (this.viewName !== null) this.showLandscape(panel);
    const layer = new PathLayer(panel, this.runs);
    this.paths.push(layer);
    layer.draw(this.runEpochs);
  }

  // Bokeh updates, once: the curves' data ships once, in the runs, not again in the panels.
  fillLoss(panel) {
    for (const run of this.runs) panel.models.runs[run.name].data = { x: epochAxis(run.loss.length), y: run.loss };
  }

  fillAccuracy(panel) {
    for (const run of this.runs) {
      const x = epochAxis(run.loss.length);
      panel.models.train[run.name].data = { x, y: run.trainPct };
      panel.models.val[run.name].data = { x, y: run.valPct };
    }
  }

  adoptStrip(panel) {
    this.strips.push(panel);
    this.fillStrip(panel);
  }

  // A strip shows the focused run: a Bokeh update on a change of run, never on a step.
  fillStrip(panel) {
    const run = this.focusedRun, x = epochAxis(run.loss.length), path = run.paths[panel.plane], { models } = panel;
    if (panel.kind === "gap") {
      models.recorded.data = { x, y: run.loss };
      models.surface.data = { x, y: path.surface };
    } else {
      models.distance.data = { x, y: path.distance };
    }
    models.title.text = this.spec.titles[panel.kind][panel.plane][this.focus];  // names the plane and the run
  }

  addMarker(panel) {
    const marker = new Marker(panel, panel.kind === "loss" ? this.runs.map((run) => run.colour) : []);
    this.markers.push(marker);
    this.moveMarker(marker);
  }

  moveMarker(marker) {
    marker.move(this.epoch, this.runEpochs, this.runEpochs.map((e, i) => this.runs[i].loss[e]));
  }

  // Shows one view (true proportions or stretched) and one colour scale (the figure's or the article's) in
  // every landscape; one still to arrive gets them when it does.
  setLandscape(viewName, scaleKey) {
    this.viewName = viewName;
    this.scaleKey = scaleKey;
    for (const panel of this.landscapes) this.showLandscape(panel);
    // Bokeh repaints the landscapes with the new ranges; our paths follow on its repaint.
  }

  // A plane without the view asked for keeps its true one.
  showLandscape(panel) {
    const views = this.spec.landscapes[panel.plane], scale = this.spec.scales[this.scaleKey];
    const shown = views.find((view) => view.name === this.viewName) || views[0];
    const { models } = panel, plot = bokeh.plotOf(panel.plotView);
    for (const view of views) {
      const its = models.views[view.name];
      its.image.visible = view === shown;
      for (const [scaleKey, contours] of Object.entries(its.contours)) {
        contours.visible = view === shown && scaleKey === this.scaleKey;
      }
    }
    [plot.x_range.start, plot.x_range.end] = shown.x_range;
    [plot.y_range.start, plot.y_range.end] = shown.y_range;
    models.title.text = shown.title;
    models.note.text = shown.note;
    models.mapper.low = scale.low;
    models.mapper.high = scale.high;
    models.bar.ticker.ticks = scale.ticks;
    models.bar.major_label_overrides = new Map(scale.ticks.map((t, i) => [t, scale.labels[i]]));
  }

  setFocus(index) {
    this.focus = index;
    for (const panel of this.strips) this.fillStrip(panel);
    this.frame = -1;
    this.setEpoch(this.epoch);
  }

  // One step: only our layer is drawn, no Bokeh model is touched.
  setEpoch(epoch) {
    this.epoch = epoch;
    this.runEpochs = this.runs.map((run) => Math.min(epoch, run.epochs));
    this.showRegions();
    for (const layer of this.paths) layer.draw(this.runEpochs);
    for (const marker of this.markers) this.moveMarker(marker);
  }

  // The focused run's snapshot at the epoch, drawn only when it is another frame than the one shown.
  showRegions() {
    const run = this.focusedRun, frame = run.frameAt[this.epoch];
    if (!this.regions || frame === this.frame) return;
    this.frame = frame;
    this.regions.show(run.codes, frame, run.frames[frame]);
  }

  readout() {
    return readout(this.focusedRun, this.epoch, this.spec.max_epoch, this.named);
  }
}
