/* main.js: start-up, and the map of the page script.
 *
 * Each figure has two layers. Bokeh draws the static one once: axes, surface images, contours, full curves
 * (lossarticle/panels.py). The page script draws what moves with the epoch, on its own layer placed from each
 * plot's frame box and scales: the path so far and the current points as SVG over each landscape, the epoch
 * markers and the current loss as HTML over the curves (layers.js), the decision-region frame as a 100×100
 * ImageData beneath the regions plot, whose frame Bokeh leaves see-through (regions.js). A slider step touches no
 * Bokeh model, so Bokeh does no work at all (scene.js); input is coalesced to one draw per animation frame
 * (player.js). Every canvas the browser renders costs at every frame (see Marker), so those that show nothing or
 * never change are left out of rendering (bokeh.quiet, spareCanvases in embed.js).
 *
 * The parts, in the order lossarticle/render.py joins them (PAGE_SCRIPT_PARTS), into one function scope:
 * marks.js (User Timing milestones), bokeh.js (every BokehJS internal), format.js, decode.js, layers.js,
 * regions.js, hover.js, scene.js, embed.js, load.js (lazy loading, one embedding at a time), address.js,
 * player.js, explorer.js, lab.js, lab-yours.js and lab-dice.js (readers train networks in a worker), and this file: it finds the page's figures and the explorer, loads each when it comes
 * near the viewport (the one the address names at once), follows the address, and gives figure scripts, the
 * tests and the console window.lossarticle.
 */
const NEAR = "100% 0px 100% 0px";  // start loading one viewport ahead
const RENDERED = "10% 0px 10% 0px";  // plots farther than a tenth of a viewport stop rendering

const players = new Map();  // figure slug or "explorer" -> Player

bokeh.tune();

// Loads ``player``'s figure (``load``) when it comes within NEAR of the viewport; autoplay follows what the
// reader sees, rendering what is near.
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
  const rendered = new IntersectionObserver((entries) => {
    for (const e of entries) player.loader.setFar(!e.isIntersecting);
  }, { rootMargin: RENDERED });
  rendered.observe(player.plots);
}

function init() {
  const loads = new Map();
  for (const root of document.querySelectorAll(".la-figure[data-src]")) {
    const player = new Player(root, root.dataset.slug);
    players.set(root.dataset.slug, player);
    loads.set(player, () => player.load(root.dataset.slug, root.dataset.src));
  }
  for (const root of document.querySelectorAll(".la-explorer")) {
    const explorer = new Explorer(root);
    players.set("explorer", explorer);
    loads.set(explorer, () => explorer.choose(explorer.initialChoice()));
  }
  const linked = address.follow([...players.values()]);
  if (linked) {
    // A link to a figure: ask for its script now and embed it before any other.
    scheduler.first = linked.root;
    loads.get(linked)();
  }
  for (const [player, load] of loads) if (player !== linked) start(player, load);
  if (linked) start(linked, () => {});
  // Back, forward, a followed link or an edited address: every such move between our entries changes the
  // fragment, so hashchange alone sees them (popstate would apply each one twice).
  window.addEventListener("hashchange", () => address.follow([...players.values()]));
}

window.lossarticle = {
  register,
  registerLab,  // lab/<slug>.js
  registerTrainer,  // assets/trainer.js
  lab: (key) => (players.has(key) ? players.get(key).lab : null),  // for the tests and the console
  writeAddress: (key) => {  // now, not once the reader has settled (address.write): for the tests
    players.get(key).remember();
    clearTimeout(address.timer);
    if (address.from) address.flush();
  },
  // For the tests and the console:
  state: (key) => (players.has(key) ? players.get(key).state() : null),
  panel: (key, panelKey) => {  // Bokeh's view of a panel
    const player = players.get(key), embedding = player ? player.loader.embedding : null;
    const found = embedding ? embedding.panels.get(panelKey) : null;
    return found ? found.plotView : null;
  },
  // What bokeh.js relies on and the loaded BokehJS lacks, checked on a figure's live plots.
  bokehMissing: (key) => {
    const embedding = players.has(key) ? players.get(key).loader.embedding : null;
    return embedding ? bokeh.missing(embedding.plotViews) : ["no embedded figure " + key];
  },
  format: { number: formatNumber, percent: formatPercent },
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
