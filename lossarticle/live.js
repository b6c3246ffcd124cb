// Live reload for `generate.py serve` only: the server adds this script to index.html responses,
// and nothing of it is written to site/. It shows the current build error where the editor looks
// and reloads the page once a rebuild has swapped in a new one.
//
// The page's CSP allows scripts from our own origin and no connections (no fetch, XHR or
// EventSource), so it polls by adding <script src="/__serve__/status.js?n=…"> elements; each
// calls window.lossarticleServe({version, error, busy}).
(function () {
  "use strict";
  const served = new URL(document.currentScript.src).searchParams.get("version");
  const POLL_MS = 400;
  let polls = 0;
  let banner = null;

  function showBanner(status) {
    const text = status.error ? status.error.message : status.busy;
    if (!text) {
      if (banner) banner.remove();
      banner = null;
      return;
    }
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "lossarticle-serve-status";
      banner.setAttribute("role", "alert");
      // CSSOM assignments, not a style attribute: the CSP allows these.
      Object.assign(banner.style, {
        position: "fixed", top: "0", left: "0", right: "0", zIndex: "2147483647", margin: "0",
        padding: "0.6em 1em", font: "14px/1.4 ui-monospace, monospace", whiteSpace: "pre-wrap",
        color: "#fff", boxShadow: "0 2px 6px rgba(0, 0, 0, 0.3)",
      });
      document.body.prepend(banner);
    }
    banner.style.background = status.error ? "#a4001d" : "#3b4252";
    banner.dataset.kind = status.error ? "error" : "busy";
    banner.replaceChildren();
    if (status.error) {
      const where = document.createElement("strong");
      where.className = "la-serve-where";
      where.textContent = status.error.where ? status.error.where + ": " : "";
      const message = document.createElement("span");
      message.className = "la-serve-message";
      message.textContent = status.error.message;
      banner.append("Build failed, showing the previous site. ", where, message);
    } else {
      banner.append(text);
    }
  }

  window.lossarticleServe = function (status) {
    if (status.version !== served) {
      location.reload(); // a new site was swapped in (it shows any newer error itself)
    } else {
      showBanner(status);
    }
  };

  function poll() {
    const script = document.createElement("script");
    script.src = "/__serve__/status.js?n=" + polls++;
    // The server may be restarting (a registry edit): a failed poll is simply tried again.
    script.onload = script.onerror = function () {
      script.remove();
      setTimeout(poll, POLL_MS);
    };
    document.head.append(script);
  }

  poll();
})();
