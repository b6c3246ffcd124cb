/* address.js: what the reader sees, as a link. The address holds it,
 * #fig-<slug>?epoch=120&run=sgd&view=stretched&scale=shared (or scale=local; the explorer adds net=<slug>; a
 * figure's lab adds the reader's run, yours=adam&lr=0.005&m=0.9, or the dice's seed, dice=1234),
 * rewritten as the reader moves, applied on load and on back/forward; each figure's copy link button puts it on the
 * clipboard.
 * Only this file knows the parameters' names.
 *
 * Uses a player's state (player.js: epoch, scene, stretched, shared, local, network) and restore(wanted).
 */

// The address is rewritten once the reader has settled for ADDRESS_SETTLE_MS, and at most every ADDRESS_MAX_MS
// during a long drag or play: each history.replaceState costs a same-document navigation, and Chromium fetches
// and parses the favicon again after it (7-9 ms of main thread per rewrite here, more than a whole step).
const ADDRESS_SETTLE_MS = 400, ADDRESS_MAX_MS = 3000;

const address = {
  timer: 0,
  since: 0,  // when the first change not yet in the address happened
  from: null,  // the player whose state the next rewrite writes

  parse(hash) {
    // "#fig-x?epoch=3&run=sgd" -> {id: "fig-x", params}; null for any other fragment.
    const text = (hash || "").replace(/^#/, ""), cut = text.indexOf("?");
    const id = cut < 0 ? text : text.slice(0, cut);
    return id.startsWith("fig-") ? { id, params: new URLSearchParams(cut < 0 ? "" : text.slice(cut + 1)) } : null;
  },

  // What the parameters ask for, for player.restore: null or false where missing or malformed.
  read(params) {
    const epoch = params.get("epoch"), dice = params.get("dice"), yours = params.get("yours");
    return { network: params.get("net"), run: params.get("run"), stretched: params.get("view") === "stretched",
      shared: params.get("scale") === "shared", local: params.get("scale") === "local",
      epoch: /^\d+$/.test(epoch || "") ? Number(epoch) : null,
      yours: yours ? { choice: yours, lr: Number(params.get("lr")), second: params.has("m") ? Number(params.get("m")) : NaN } : null,
      dice: /^\d{1,10}$/.test(dice || "") ? Number(dice) : null };
  },

  // What the reader sees, as parameters (defaults left out, but the epoch).
  params(player) {
    const params = new URLSearchParams(), scene = player.scene;
    if (player.network) params.set("net", player.network);
    params.set("epoch", String(player.epoch));
    if (scene && scene.named) params.set("run", scene.focusedRun.name);
    if (player.stretched) params.set("view", "stretched");
    if (player.shared) params.set("scale", "shared");
    else if (player.local && scene && scene.localScale) params.set("scale", "local");
    const lab = player.lab, trained = lab ? lab.wanted : null;
    if (trained !== null && lab.kind === "dice") params.set("dice", String(trained));
    else if (trained !== null) {
      params.set("yours", trained.choice);
      params.set("lr", String(trained.lr));
      if (trained.choice !== "sgd") params.set("m", String(trained.second));  // a value of 0 is a choice too
    }
    return params;
  },

  hash(player) {
    return "#" + player.root.id + "?" + this.params(player).toString();
  },

  link(player) {
    return location.href.split("#")[0] + this.hash(player);
  },

  write(player) {
    // history.replaceState, not one history entry per step, and not at every step (see ADDRESS_*).
    this.from = player;
    const now = performance.now();
    if (!this.timer) this.since = now;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(),
      Math.max(0, Math.min(ADDRESS_SETTLE_MS, this.since + ADDRESS_MAX_MS - now)));
  },

  flush() {
    this.timer = 0;
    const hash = this.hash(this.from);
    if (location.hash !== hash) history.replaceState(history.state, "", hash);
  },

  // Load, back/forward, an edited address or a link: the state of the figure it names, among ``players``, is
  // applied. Returns that figure's player, or null.
  follow(players) {
    const target = this.parse(location.hash);
    if (!target) return null;
    const player = players.find((p) => p.root.id === target.id);
    if (!player) return null;
    if ([...target.params.keys()].length) {
      player.restore(this.read(target.params));
      // The fragment is not an element id, so the browser does not scroll to the figure.
      if (!nearViewport(player.root)) player.root.scrollIntoView({ block: "start" });
    }
    return player;
  },

  async copyLink(player) {
    const link = this.link(player);
    player.remember();
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(link);
      player.linkField.hidden = true;
      player.status.textContent = "Link copied";
    } catch (error) {
      // No clipboard here (a file:// page, an older browser, a denied permission): show the link, selected, for
      // the reader to copy.
      player.linkField.value = link;
      player.linkField.hidden = false;
      player.linkField.focus();
      player.linkField.select();
      player.status.textContent = "Copy the selected link";
    }
  },
};

function nearViewport(el) {
  const box = el.getBoundingClientRect();
  return box.top < innerHeight && box.bottom > 0 && box.top > -innerHeight / 2;
}
