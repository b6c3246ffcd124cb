/* layers.js: what moves with the epoch, drawn over Bokeh's plots: the runs' paths over each landscape and the
 * epoch markers over the curves. Each layer is placed from its plot's frame box and scales, and placed again
 * after Bokeh repaints the plot (a resize, the proportion toggle's new ranges), never before.
 *
 * Uses bokeh.js (a plot's frame and repaints).
 */
const SVG = "http://www.w3.org/2000/svg";

// Calls place(frame) when a plot's frame box or ranges changed since its last call: Bokeh lays a plot out again
// on a resize or new ranges, and a layer must follow; reading the box is cheap, placing a layer again is not.
class Placement {
  constructor(plotView, place) {
    this.plotView = plotView;
    this.place = place;
    this.placed = "";  // the box and ranges last placed for
  }

  // The frame, placed for; null while Bokeh has not laid the plot out.
  update() {
    const frame = bokeh.frame(this.plotView), { bbox, x_scale, y_scale } = frame;
    if (!bbox || !(bbox.width > 0)) return null;
    const key = [bbox.left, bbox.top, bbox.width, bbox.height, x_scale.source_range.start, x_scale.source_range.end,
      y_scale.source_range.start, y_scale.source_range.end].join();
    if (key !== this.placed) {
      this.placed = key;
      this.place(frame);
    }
    return frame;
  }
}

// Puts an element over (or under) a plot's frame: its box in the canvas's pixels.
function cover(el, bbox) {
  Object.assign(el.style, { left: bbox.left + "px", top: bbox.top + "px", width: bbox.width + "px",
    height: bbox.height + "px" });
}

function visibleVertices(x, y) {
  // The vertices of a path (canvas pixels) that move it by half a pixel or more: late in training a path
  // creeps by hundredths of a pixel per epoch, and every vertex kept is text in the SVG path, parsed and laid
  // out again at every step.
  const kept = [0];
  for (let k = 1, last = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k]) || !Number.isFinite(y[k])) continue;
    if (Math.abs(x[k] - x[last]) >= 0.5 || Math.abs(y[k] - y[last]) >= 0.5) { kept.push(k); last = k; }
  }
  return Int32Array.from(kept);
}

class PathLayer {
  // The runs' paths so far and their current points over one landscape: SVG over the plot's frame, its viewBox
  // the frame box in Bokeh's canvas coordinates, so a vertex goes where the frame's x_scale puts it. SVG rather
  // than a canvas: a 2D canvas is rasterized on the main thread when the frame is committed, and every rendered
  // canvas is produced again at each frame; SVG is recorded on the main thread and rasterized off it.
  constructor(panel, runs) {
    this.runs = runs;
    this.plane = panel.plane;
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "la-paths");
    this.svg.setAttribute("aria-hidden", "true");
    const make = (name, attributes) => {
      const el = document.createElementNS(SVG, name);
      for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
      this.svg.appendChild(el);
      return el;
    };
    this.lines = runs.map((run) => make("path", run.dash.length
      ? { stroke: run.colour, "stroke-dasharray": run.dash.join(" ") } : { stroke: run.colour }));
    // An open ring where the run first reaches 90 % training accuracy (spec: fit_epoch), shown once the path has.
    this.fits = runs.map((run) => {
      const ring = make("circle", { r: "5.5", class: "la-fit", visibility: "hidden" });
      ring.style.stroke = run.colour;  // the style object, not a style attribute: the page's CSP refuses those
      return ring;
    });
    this.points = runs.map((run) => make("circle", { r: "4.5", fill: run.colour }));  // over every path
    panel.el.appendChild(this.svg);
    this.vertices = [];  // per run, in canvas pixels: x, y, the vertices kept, each vertex as SVG text
    this.drawnEnds = [];  // per run, the epoch its path was last drawn to (until the next placement)
    this.runEpochs = null;  // the epochs last drawn, drawn again after a repaint
    this.placement = new Placement(panel.plotView, (frame) => this.place(frame));
    bokeh.onRepaint(panel.plotView, () => { if (this.runEpochs) this.draw(this.runEpochs); });
  }

  place({ bbox, x_scale, y_scale }) {
    cover(this.svg, bbox);
    this.svg.setAttribute("viewBox", [bbox.left, bbox.top, bbox.width, bbox.height].join(" "));
    this.vertices = this.runs.map((run) => {
      const x = x_scale.v_compute(run.paths[this.plane].x), y = y_scale.v_compute(run.paths[this.plane].y);
      return { x, y, kept: visibleVertices(x, y), text: Array.from(x, (v, k) => v.toFixed(1) + "," + y[k].toFixed(1)) };
    });
    this.drawnEnds = [];
  }

  // Each run's path up to its epoch in runEpochs (runs that stopped early stay at their end).
  draw(runEpochs) {
    this.runEpochs = runEpochs;
    if (!this.placement.update()) return;
    this.runs.forEach((run, i) => {
      const end = runEpochs[i], { x, y, kept, text } = this.vertices[i];
      if (this.drawnEnds[i] === end) return;
      this.drawnEnds[i] = end;
      let d = "M" + text[0];
      for (let j = 1; j < kept.length && kept[j] < end; j++) d += "L" + text[kept[j]];
      if (end > 0) d += "L" + text[end];
      this.lines[i].setAttribute("d", d);
      const fit = run.fitEpoch, reached = fit !== null && fit <= end && Number.isFinite(x[fit]);
      this.fits[i].setAttribute("visibility", reached ? "visible" : "hidden");
      if (reached) {
        this.fits[i].setAttribute("cx", x[fit].toFixed(1));
        this.fits[i].setAttribute("cy", y[fit].toFixed(1));
      }
      this.points[i].setAttribute("cx", x[end].toFixed(1));
      this.points[i].setAttribute("cy", y[end].toFixed(1));
    });
  }
}

class Marker {
  // The epoch over a plot whose x axis is the epoch: a dashed line down the frame and, given the runs' colours
  // (the loss plot), each run's current loss. HTML moved by transform, not a canvas: under software compositing
  // every rendered canvas is produced again at each frame, changed or not, so a figure's steps cost less the
  // fewer canvases it has.
  constructor(panel, colours) {
    const make = (className) => {
      const el = document.createElement("div");
      el.className = className;
      el.setAttribute("aria-hidden", "true");
      panel.el.appendChild(el);
      return el;
    };
    this.line = make("la-marker");
    this.dots = colours.map((colour) => {
      const dot = make("la-dot");
      dot.style.backgroundColor = colour;
      return dot;
    });
    this.shown = null;  // the last move's arguments, shown again after a repaint
    this.placement = new Placement(panel.plotView, ({ bbox }) => {
      this.line.style.top = bbox.top + "px";
      this.line.style.height = bbox.height + "px";
    });
    bokeh.onRepaint(panel.plotView, () => { if (this.shown) this.move(...this.shown); });
  }

  // The line at ``epoch``; run i's dot at (runEpochs[i], losses[i]).
  move(epoch, runEpochs, losses) {
    this.shown = [epoch, runEpochs, losses];
    const frame = this.placement.update();
    if (!frame) return;
    const { bbox, x_scale, y_scale } = frame;
    this.line.style.transform = "translateX(" + x_scale.compute(epoch).toFixed(1) + "px)";
    this.dots.forEach((dot, i) => {
      const sy = y_scale.compute(losses[i]), inside = sy >= bbox.top && sy <= bbox.bottom;
      dot.style.visibility = inside ? "visible" : "hidden";
      if (inside) {
        dot.style.transform = "translate(" + x_scale.compute(runEpochs[i]).toFixed(1) + "px, " + sy.toFixed(1) + "px)";
      }
    });
  }
}
