/* load.js: lazy loading. Which figure loads when, and in what order: a figure's script is fetched once the
 * figure comes within a screen of the viewport (main.js), but run and embedded on its turn; one embedding at a
 * time, the figure the address names first, then the one nearest the viewport. A figure is interactive once the
 * panels its spec lists "first" are drawn (the first plane's landscape, the regions); the other landscapes, the
 * curves and the strips follow on a later turn. Plots far from the viewport stop rendering.
 *
 * The page's CSP forbids eval, so each figure's data arrives as figures/<slug>.js, a script that calls
 * window.lossarticle.register (main.js), which lands here.
 *
 * Uses marks.js, embed.js, bokeh.js (painted).
 */
const specs = new Map();     // slug -> spec, as registered by figures/<slug>.js
const waiting = new Map();   // slug -> [{resolve, reject}]
const requested = new Set(); // slugs whose script tag was inserted
const preloaded = new Set(); // slugs whose script was fetched ahead (preload), not yet run

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

class Loader {
  // One figure's plots area: which figure is embedded there, and its loading.
  constructor(plots, key) {
    this.plots = plots;
    this.key = key;  // names the marks: the figure's slug, or "explorer"
    this.token = 0;  // the latest load; an older one that finishes late is dropped
    this.embedding = null;
    this.busy = false;  // embedding: the plots must render whatever the viewport
    this.far = false;  // far from the viewport, as main.js's observer last said
    this.complete = false;  // every panel embedded, its data assigned and painted
  }

  // Loads figure ``slug`` from ``src`` in place of the one shown, through ``owner``: detach() takes the shown
  // figure away and returns its epoch (or null), attach(spec, embedding, epoch) makes the first panels live,
  // adopt(panels) hands it the others. Rejects with what failed, unless a newer load superseded this one.
  async load(slug, src, owner) {
    const token = ++this.token;
    this.complete = false;
    let adopted = false;
    try {
      adopted = await this.embedInTurns(slug, src, owner, token);
    } catch (error) {
      if (token === this.token) throw error;
    } finally {
      if (token === this.token) { this.busy = false; this.setFar(this.far); }
    }
    if (!adopted) return;
    // The later panels' data repaints them on a later animation frame: complete once Bokeh has painted.
    await bokeh.painted(this.embedding.plotViews);
    if (token !== this.token) return;
    this.complete = true;
    mark("la:" + this.key + ":complete");
  }

  // The two turns of a load; resolves true once every panel is embedded and adopted.
  async embedInTurns(slug, src, owner, token) {
    preload(slug, src);
    await scheduler.run(this.plots, async () => {
      if (token !== this.token) return;
      const spec = await loadSpec(slug, src);
      if (token !== this.token) return;
      const epoch = owner.detach();
      this.busy = true;
      this.setFar(false);
      mark("la:" + this.key + ":embed");
      const embedding = await embedFigure(spec, this.plots, this.key);
      mark("la:" + this.key + ":embedded");
      if (token !== this.token) { embedding.remove(); return; }
      this.embedding = embedding;
      owner.attach(spec, embedding, epoch);
    });
    const embedding = this.embedding;
    if (token !== this.token || !embedding) return false;
    return scheduler.run(embedding.laterEl, async () => {
      if (token !== this.token) return false;
      this.setFar(false);
      const later = await embedding.embedLater();
      if (token !== this.token) return false;
      owner.adopt(later);
      return true;
    });
  }

  remove() {
    if (this.embedding) this.embedding.remove();
    this.embedding = null;
    this.complete = false;
  }

  // Figures far from the viewport stop rendering: under software compositing every rendered canvas is produced
  // again at each frame, whatever changed (issue 12: 97 canvases per step with five figures loaded, 36 with only
  // the one on screen and a neighbour).
  setFar(far) {
    this.far = far;
    const hide = far && !this.busy && !!this.embedding;
    if (hide === this.plots.classList.contains("la-far")) return;
    if (hide) this.plots.style.containIntrinsicBlockSize = "auto " + Math.round(this.plots.offsetHeight) + "px";
    this.plots.classList.toggle("la-far", hide);
  }
}
