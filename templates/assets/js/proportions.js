/* proportions.js: a landscape's frame keeps its true view's proportions at every width.
 *
 * Bokeh stretches a plot to its panel's width; with a fixed height, a frame over a square grid drew a unit of
 * a 1.13-1.23 times as long as a unit of b at 1280 px, 1.03-1.12 at 375 px (issue 16), under a title saying
 * "true proportions". So the landscape has a frame_height (panels.landscape_plot: Bokeh then makes the plot as
 * tall as its frame, axes, title and note), which this sets to the frame's width times the true view's height
 * over width, once Bokeh has laid the plot out and again whenever it lays it out at another width. The
 * stretched view shares the frame: its factor is measured against a square plot (schema.ViewRecord.stretch).
 *
 * Uses bokeh.js (a plot's frame, canvas and repaints).
 */
class TrueProportions {
  constructor(panel, trueView) {
    const [x0, x1] = trueView.x_range, [y0, y1] = trueView.y_range;
    this.plotView = panel.plotView;
    this.aspect = (y1 - y0) / (x1 - x0);  // frame height over width: 1 for surface.py's square grids
    this.scheduled = false;
    this.canvasWidth = null;  // the plot's width at the last fit
    this.fits = 0;  // fits at that width since the frame was last in proportion
    bokeh.onRepaint(panel.plotView, () => this.schedule());
    this.fit();
  }

  // After the paint that showed the new layout, not inside it: a new frame_height lays the plot out and paints
  // it again at once.
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.fit();
    });
  }

  fit() {
    const { bbox } = bokeh.frame(this.plotView);
    if (!bbox || !(bbox.width > 0)) return;  // not laid out yet
    const wanted = bbox.width * this.aspect;
    if (Math.abs(bbox.height - wanted) < 0.5) {
      this.fits = 0;
      return;
    }
    // The frame's width follows the labels of the axes and the colour bar, not its height (Bokeh picks ticks
    // from the range), so one fit settles it. Should a new height ever move the labels, two fits could undo each
    // other: a few, until the frame is in proportion or the plot gets another width, then no more.
    const canvasWidth = bokeh.canvasRect(this.plotView).width;
    if (canvasWidth !== this.canvasWidth) [this.canvasWidth, this.fits] = [canvasWidth, 0];
    if (++this.fits > 3) return;
    bokeh.plotOf(this.plotView).frame_height = wanted;
  }
}
