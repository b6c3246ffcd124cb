/* regions.js: the focused run's decision regions, a canvas beneath the regions plot's see-through frame.
 *
 * Uses bokeh.js (the plot's underlay layer) and layers.js (Placement, cover).
 */

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

class RegionLayer {
  // A w×h canvas put beneath the regions plot's frame (in Bokeh's underlay layer) and stretched over it by CSS
  // without smoothing, as Bokeh's image glyphs are drawn. Codes run from the bottom row up (Bokeh's image
  // convention); ImageData rows run top down.
  constructor(panel, spec) {
    const [h, w] = spec.region_shape;
    this.h = h;
    this.w = w;
    this.lut = colourLut(spec.classes, spec.confidence_bits);
    this.canvas = document.createElement("canvas");
    this.canvas.width = w;
    this.canvas.height = h;
    this.canvas.className = "la-regions";
    this.canvas.setAttribute("aria-hidden", "true");
    Object.assign(this.canvas.style, { position: "absolute", imageRendering: "pixelated", pointerEvents: "none" });
    bokeh.underlays(panel.plotView).appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.image = new ImageData(w, h);
    this.pixels = new Uint32Array(this.image.data.buffer);
    // The epoch of the frame on show, at the right end of the title row: the page shows the latest stored frame
    // at or before the slider's epoch, and the reader sees when it lags. HTML, like the epoch markers.
    this.label = document.createElement("div");
    this.label.className = "la-frame-epoch";
    this.label.setAttribute("aria-hidden", "true");  // the readout says the epoch
    panel.el.appendChild(this.label);
    this.placement = new Placement(panel.plotView, ({ bbox }) => {
      cover(this.canvas, bbox);
      Object.assign(this.label.style, { left: bbox.right + "px", top: bbox.top + "px" });
    });
    bokeh.onRepaint(panel.plotView, () => this.placement.update());
    this.placement.update();
  }

  // Frame ``frame`` of a run's packed codes, the regions at ``epoch``.
  show(codes, frame, epoch) {
    this.label.textContent = "epoch " + epoch;
    const { w, h, pixels, lut } = this;
    for (let iy = 0, j = frame * h * w; iy < h; iy++) {
      for (let ix = 0, o = (h - 1 - iy) * w; ix < w; ix++, j++, o++) pixels[o] = lut[codes[j]];
    }
    this.ctx.putImageData(this.image, 0, 0);
  }
}
