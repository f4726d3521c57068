// The cockpit's only script: live reload of the page's figures, the trend chart, span bars.
// Everything it loads comes from this host (the Content-Security-Policy says so).
(function () {
  "use strict";
  let pending = false, dirty = false;

  function refresh() {
    if (pending) { dirty = true; return; }
    pending = true;
    const done = () => { pending = false; if (dirty) { dirty = false; refresh(); } };
    // htmx swaps the new #content in place; focus and scroll stay where the reader left them.
    htmx.ajax("GET", location.pathname + location.search,
              { target: "#content", select: "#content", swap: "outerHTML" }).then(done, done);
  }

  function listen() {
    const main = document.getElementById("content");
    const company = main && main.dataset.liveCompany;
    if (!company || !window.EventSource) return;
    const source = new EventSource("/live?company=" + encodeURIComponent(company));
    source.addEventListener("journal-posted", refresh);
  }

  let chart = null;
  function drawTrend() {
    const canvas = document.getElementById("trend-chart");
    const data = document.getElementById("trend-data");
    if (!canvas || !data || !window.Chart) return;
    const d = JSON.parse(data.textContent);
    if (chart) chart.destroy();
    const colours = ["#1d4e89", "#b3541e"];
    chart = new Chart(canvas, {
      data: {
        labels: d.labels,
        datasets: d.series.map((s, i) => ({
          type: i === 0 ? "bar" : "line", label: s.label, data: s.values.map(Number),
          backgroundColor: colours[i], borderColor: colours[i],
        })),
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 plugins: { legend: { position: "bottom" } } },
    });
  }

  function bars(root) {
    (root || document).querySelectorAll(".bar[data-left]").forEach((el) => {
      el.style.marginLeft = el.dataset.left + "%";
      el.style.width = el.dataset.width + "%";
    });
    (root || document).querySelectorAll(".indent[data-depth]").forEach((el) => {
      el.style.paddingLeft = (Number(el.dataset.depth) * 1.1) + "em";
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    listen(); drawTrend(); bars();
    document.body.addEventListener("htmx:afterSettle", () => { drawTrend(); bars(); });
  });
})();
