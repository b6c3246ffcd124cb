/* player.js: one figure's controls. The slider and the one-epoch steps, play/pause at a chosen speed with loop,
 * autoplay once visible, the run menu and the landscape toggles; readiness (controls work once the figure is
 * interactive) and the readout. Input is coalesced to one draw per animation frame.
 *
 * Uses scene.js (what is drawn), load.js (Loader), address.js (remember, restore, copy link), format.js.
 */
const MIN_RATE = 30, MAX_RATE = 100, PLAY_SECONDS = 12;  // epochs per second while playing at 1×
const reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };
const pressed = (button) => !!button && button.getAttribute("aria-pressed") === "true";

class Player {
  constructor(root, key) {
    this.root = root;
    this.key = key;  // the figure's slug, or "explorer"
    const find = (selector) => root.querySelector(selector);
    this.plots = find(".la-plots");
    this.slider = find(".la-epoch");
    this.playButton = find(".la-play");
    this.backButton = find(".la-back");
    this.forwardButton = find(".la-forward");
    this.runSelect = find(".la-run");
    this.stretchButton = find(".la-stretch");
    this.sharedButton = find(".la-shared");
    this.localButton = find(".la-local");
    this.speedSelect = find(".la-speed");
    this.loopButton = find(".la-loop");
    this.copyButton = find(".la-copy");
    this.linkField = find(".la-link");
    this.status = find(".la-status");
    this.output = find(".la-readout");
    this.loader = new Loader(this.plots, key);
    this.scene = null;
    this.started = false;  // a load was asked for: before, an address only chooses what the first load shows
    this.ready = false;  // interactive: the controls work
    this.playing = false;
    this.visible = false;
    this.autoplayed = false;
    this.touched = false;  // a reader who used the controls (or a link) is never overridden by autoplay
    this.wanted = null;  // the epoch the next animation frame shows
    this.frameRequest = 0;  // that frame's requestAnimationFrame id; 0: none on its way
    this.pending = null;  // what an address asked for (address.read), shown once the figure is ready
    const labRoot = find(".la-lab");
    this.lab = labRoot ? makeLab(labRoot, this) : null;  // where the reader trains a network (lab.js)
    this.wire();
  }

  // The epoch the reader chose: the one the next frame draws, when one is on its way.
  get epoch() { return this.frameRequest ? this.wanted : this.scene ? this.scene.epoch : Number(this.slider.value); }
  get maxEpoch() { return this.scene ? this.scene.spec.max_epoch : Number(this.slider.max); }
  get looping() { return pressed(this.loopButton); }
  get stretched() { return pressed(this.stretchButton); }  // the landscapes' stretched view, if the figure has one
  get shared() { return pressed(this.sharedButton); }  // the article's colour scale, not the figure's
  get local() { return pressed(this.localButton); }  // a nearly flat figure's colours stretched over its maps
  get network() { return null; }  // the network shown, where there is a choice (explorer.js)

  wire() {
    const touch = () => { this.touched = true; };
    const moved = () => { touch(); this.remember(); };
    this.slider.addEventListener("input", () => { touch(); this.pause(); this.request(Number(this.slider.value)); });
    this.playButton.addEventListener("click", () => { touch(); this.playing ? this.pause() : this.play(); });
    this.backButton.addEventListener("click", () => { touch(); this.pause(); this.show(this.epoch - 1); });
    this.forwardButton.addEventListener("click", () => { touch(); this.pause(); this.show(this.epoch + 1); });
    if (this.runSelect) {
      this.runSelect.addEventListener("change", () => {
        if (this.scene) this.scene.setFocus(Number(this.runSelect.value));
        this.writeReadout();
        moved();
      });
    }
    const scaleButtons = [this.sharedButton, this.localButton];
    for (const button of [this.stretchButton, ...scaleButtons]) {
      if (!button) continue;
      button.addEventListener("click", () => {
        button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
        // One colour scale at a time: choosing the article's or the stretched one lets go of the other.
        if (pressed(button) && scaleButtons.includes(button)) {
          for (const other of scaleButtons) if (other && other !== button) other.setAttribute("aria-pressed", "false");
        }
        this.applyLandscape();
        moved();
      });
    }
    if (this.loopButton) {
      this.loopButton.addEventListener("click", () => {
        touch();
        this.loopButton.setAttribute("aria-pressed", String(!this.looping));
      });
    }
    if (this.speedSelect) this.speedSelect.addEventListener("change", touch);
    if (this.copyButton) this.copyButton.addEventListener("click", () => address.copyLink(this));
  }

  // The proportions and colour scale the reader chose, applied to whatever figure is shown.
  applyLandscape() {
    if (!this.scene) return;
    const scale = this.shared ? "shared" : this.local && this.scene.localScale ? "local" : "figure";
    this.scene.setLandscape(this.stretched ? "stretched" : "true", scale);
  }

  // The one way a figure gets its data: every failure, from fetching the script to building the scene, ends up
  // inside the figure as a message, never as an empty box.
  async load(slug, src) {
    this.started = true;
    this.pause();
    this.setReady(false);
    try {
      await this.loader.load(slug, src, {
        detach: () => this.detach(),
        attach: (spec, embedding, epoch) => this.attach(spec, embedding, epoch),
        adopt: (panels) => this.scene.adopt(panels),
      });
    } catch (error) {
      this.fail(error);
    }
  }

  // Takes the shown figure away; returns the epoch it showed, or null.
  detach() {
    const epoch = this.scene ? this.scene.epoch : null;
    this.loader.remove();
    this.scene = null;
    return epoch;
  }

  attach(spec, embedding, epoch) {
    this.scene = new Scene(spec);
    if (this.lab) this.scene.onAdopt = (panel) => this.lab.adopt(panel);
    this.scene.adopt(embedding.panels.values());
    this.slider.max = String(spec.max_epoch);
    if (this.runSelect) this.scene.setFocus(Number(this.runSelect.value) || 0);
    this.applyLandscape();
    this.show(epoch === null ? spec.max_epoch : Math.min(epoch, spec.max_epoch));
    mark("la:" + this.key + ":scene");
    this.setReady(true);
    mark("la:" + this.key + ":ready");
    if (this.pending) {
      const wanted = this.pending;
      this.pending = null;
      this.restore(wanted);
    }
    this.maybeAutoplay();
  }

  fail(error) {
    this.setReady(false);
    this.detach();
    const note = document.createElement("p");
    note.className = "la-error";
    note.setAttribute("role", "alert");
    note.textContent = "This figure could not be loaded (" + (error && error.message ? error.message : error) + ").";
    this.plots.replaceChildren(note);
    this.output.textContent = "";
  }

  setReady(ready) {
    this.ready = ready;
    this.root.dataset.ready = String(ready);
    for (const control of [this.slider, this.playButton, this.backButton, this.forwardButton, this.runSelect,
      this.sharedButton, this.speedSelect, this.loopButton, this.copyButton]) {
      if (control) control.disabled = !ready;
    }
    if (this.stretchButton) this.stretchButton.disabled = !(ready && this.scene && this.scene.stretchable);
    if (this.localButton) this.localButton.disabled = !(ready && this.scene && this.scene.localScale);
  }

  request(epoch) {
    // Input events can come faster than frames: draw once per frame, the latest value.
    this.wanted = epoch;
    if (!this.frameRequest) {
      this.frameRequest = requestAnimationFrame(() => { this.frameRequest = 0; this.show(this.wanted); });
    }
  }

  show(epoch) {
    if (!this.scene) return;
    if (this.frameRequest) { cancelAnimationFrame(this.frameRequest); this.frameRequest = 0; }
    const e = Math.max(0, Math.min(this.maxEpoch, Math.round(epoch)));
    this.scene.setEpoch(e);
    if (Number(this.slider.value) !== e) this.slider.value = String(e);
    this.slider.setAttribute("aria-valuetext", "epoch " + e + " of " + this.maxEpoch);
    this.writeReadout();
    if (this.touched) this.remember();
  }

  writeReadout() {
    if (this.scene) this.output.textContent = this.scene.readout();
  }

  remember() {
    if (this.scene) address.write(this);
  }

  // Shows what an address asks for (address.read: run, stretched, shared, epoch), once the figure is ready; a
  // run or an epoch this figure lacks takes its default.
  restore(wanted) {
    if (this.needsOtherNetwork(wanted)) return;
    if (this.lab) this.lab.follow(wanted);
    this.touched = true;
    this.pause();
    if (!this.ready) { this.pending = wanted; return; }
    const runIndex = Math.max(0, this.scene.runs.findIndex((run) => run.name === wanted.run));
    if (this.runSelect) {
      this.runSelect.value = String(runIndex);
      this.scene.setFocus(runIndex);
    }
    if (this.stretchButton) {
      this.stretchButton.setAttribute("aria-pressed", String(wanted.stretched && this.scene.stretchable));
    }
    if (this.sharedButton) this.sharedButton.setAttribute("aria-pressed", String(wanted.shared));
    if (this.localButton) {
      this.localButton.setAttribute("aria-pressed", String(wanted.local && !wanted.shared && this.scene.localScale));
    }
    this.applyLandscape();
    this.show(wanted.epoch !== null && wanted.epoch <= this.maxEpoch ? wanted.epoch : this.maxEpoch);
  }

  // Before an address's state applies, the network it names must be shown: only the explorer has several.
  needsOtherNetwork(wanted) { return false; }

  play() {
    if (!this.scene) return;
    if (this.epoch >= this.maxEpoch) this.show(0);
    this.playing = true;
    this.output.setAttribute("aria-live", "off");  // do not read out sixty epochs a second
    this.playButton.setAttribute("aria-label", "Pause");
    this.playButton.classList.add("is-playing");
    let last = performance.now(), owed = 0;
    const tick = (now) => {
      if (!this.playing) return;
      owed += ((now - last) * this.rate) / 1000;
      last = now;
      const step = Math.floor(owed);
      if (step > 0) {
        owed -= step;
        const next = this.epoch + step;
        this.show(next > this.maxEpoch && this.looping && this.epoch >= this.maxEpoch ? 0 : next);
      }
      if (this.epoch >= this.maxEpoch && !this.looping) this.pause(); else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  get rate() {
    // Epochs per second: a long run plays in about PLAY_SECONDS at 1×, times the chosen speed.
    const speed = this.speedSelect ? Number(this.speedSelect.value) : 1;
    return Math.min(MAX_RATE, Math.max(MIN_RATE, this.maxEpoch / PLAY_SECONDS)) * (speed > 0 ? speed : 1);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.output.setAttribute("aria-live", "polite");
    this.playButton.setAttribute("aria-label", "Play");
    this.playButton.classList.remove("is-playing");
    this.writeReadout();
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) this.maybeAutoplay(); else this.pause();
  }

  maybeAutoplay() {
    if (this.autoplayed || this.touched || !this.visible || !this.ready || reducedMotion.matches) return;
    this.autoplayed = true;
    this.show(0);
    this.play();
  }

  state() {
    const scene = this.scene;
    return { epoch: this.epoch, playing: this.playing, ready: this.ready, max: this.maxEpoch,
      slug: scene ? scene.spec.slug : null, view: scene ? scene.viewName : null, scale: scene ? scene.scaleKey : null,
      run: scene ? scene.focusedRun.name : null, rate: this.rate, complete: this.loader.complete };
  }
}
