/* decode.js: a figure's packed data (lossarticle/packing.py) as the typed arrays the page draws from.
 *
 * Uses bokeh.js (its gunzip and ndarray).
 */

// Bokeh's named dashes (core/visuals/line.ts, resolve_line_dash), for the paths we draw: the dash names
// lossarticle/panels.py's RUN_STYLES gives the runs.
const DASHES = { solid: [], dashed: [3, 2], dotted: [2, 1], dashdot: [6, 4, 2, 4] };

const series = (list) => Float64Array.from(list, (v) => (v === null ? NaN : v));
const percent = (list) => Float64Array.from(list, (v) => (v === null ? NaN : 100 * v));
const epochAxis = (n) => Float64Array.from({ length: n }, (_, i) => i);

// A landscape's loss as page_data.pack_loss packed it: 16-bit steps of log10(loss) between the map's own
// extremes, each row as differences from its left neighbour, low bytes then high bytes.
const OVERFLOW = 65535;
function unpackLoss(packed) {
  const [ny, nx] = packed.shape, n = ny * nx, bytes = bokeh.gunzipBase64(packed.data);
  const loss = new Float32Array(n), span = (packed.high - packed.low) / (OVERFLOW - 1);
  for (let row = 0; row < ny; row++) {
    let code = 0;
    for (let i = row * nx, end = i + nx; i < end; i++) {
      code = (code + (bytes[i] | (bytes[n + i] << 8))) & 0xffff;
      loss[i] = code === OVERFLOW ? Infinity : Math.pow(10, packed.low + code * span);
    }
  }
  return bokeh.float32Grid(loss, [ny, nx]);
}

// One run of the spec, ready to draw: series indexed by epoch, the snapshot frame shown at each epoch, the
// decision-region codes of every frame, the path on every plane.
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
    weightNorm: series(raw.weight_norm), fitEpoch: raw.fit_epoch,  // fitEpoch: null when never at 90 %
    trainPct: percent(raw.train_acc), valPct: percent(raw.val_acc),
    frames: raw.frames, frameAt, codes: bokeh.gunzipBase64(raw.regions), paths,  // frames: each one's epoch
  };
}

function regionCode(code, bits, classes) {
  // What one packed byte says: the predicted class and the interval its probability lies in.
  // page_data.encode_regions stores confidence >> (8 - bits), confidence being
  // round(255 · (p − 1/C) / (1 − 1/C)); so the byte holds 2^(8 - bits) confidences.
  const label = code >> bits, step = 1 << (8 - bits), level = code & ((1 << bits) - 1);
  const chance = 1 / classes, p = (c) => Math.min(1, Math.max(chance, chance + (1 - chance) * c / 255));
  return { label, low: p(level * step - 0.5), high: p(level * step + step - 0.5) };
}
