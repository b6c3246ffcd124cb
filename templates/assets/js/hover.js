/* hover.js: a hover readout for the decision regions we draw (Bokeh's HoverTool cannot see them): the point
 * under the pointer, the predicted class and the interval of its probability. (The landscapes and curves
 * hover with Bokeh's own tool, set up in lossarticle/panels.py.)
 *
 * Uses bokeh.js (the plot's frame), decode.js (regionCode), format.js.
 */
class RegionHover {
  // ``scene`` says what is shown: its focused run, its frame, its spec (scene.js).
  constructor(panel, scene) {
    this.plotView = panel.plotView;
    this.scene = scene;
    this.tip = document.createElement("div");
    this.tip.className = "la-tip";
    this.tip.setAttribute("aria-hidden", "true");  // canvases are not in the accessibility tree either
    this.tip.hidden = true;
    this.swatch = document.createElement("span");
    this.swatch.className = "la-swatch";
    this.text = document.createElement("span");
    this.tip.append(this.swatch, this.text);
    panel.el.appendChild(this.tip);
    panel.el.addEventListener("pointermove", (event) => this.move(event));
    panel.el.addEventListener("pointerleave", () => { this.tip.hidden = true; });
  }

  // The grid cell under the pointer, or null outside the plot's frame.
  cellAt(event) {
    const { bbox, x_scale, y_scale } = bokeh.frame(this.plotView), box = bokeh.canvasRect(this.plotView);
    const sx = event.clientX - box.left, sy = event.clientY - box.top;
    if (sx < bbox.left || sx > bbox.right || sy < bbox.top || sy > bbox.bottom) return null;
    const { x_range, y_range } = bokeh.plotOf(this.plotView), [h, w] = this.scene.spec.region_shape;
    const x = x_scale.invert(sx), y = y_scale.invert(sy);
    const ix = Math.floor((x - x_range.start) / (x_range.end - x_range.start) * w);
    const iy = Math.floor((y - y_range.start) / (y_range.end - y_range.start) * h);
    if (ix < 0 || ix >= w || iy < 0 || iy >= h) return null;
    return { x, y, ix, iy, sx, sy, width: box.width };
  }

  move(event) {
    const cell = this.cellAt(event), scene = this.scene;
    if (!cell || scene.frame < 0) { this.tip.hidden = true; return; }
    const { spec } = scene, [h, w] = spec.region_shape;
    const code = scene.runs[scene.focus].codes[scene.frame * h * w + cell.iy * w + cell.ix];
    const { label, low, high } = regionCode(code, spec.confidence_bits, spec.classes.length);
    this.swatch.style.backgroundColor = spec.classes[label];
    this.text.textContent = "x₁ " + formatNumber(cell.x) + ", x₂ " + formatNumber(cell.y) + " · class "
      + (label + 1) + " · probability " + fixed(100 * low, 1) + "–" + formatPercent(high);
    this.tip.hidden = false;
    const left = cell.sx < cell.width / 2 ? cell.sx + 14 : cell.sx - 14 - this.tip.offsetWidth;
    this.tip.style.transform = "translate(" + Math.round(left) + "px, " + Math.round(cell.sy + 14) + "px)";
  }
}
