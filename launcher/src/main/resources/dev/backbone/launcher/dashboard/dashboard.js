// Live dashboard of the one-JVM stack: polls /api/dashboard once a second and appends each new snapshot to uPlot
// charts. window.dashboardState, and the data-points and data-max attributes of each panel, tell scripts and tests
// what the charts have received.
(function () {
  "use strict";

  const POLL_INTERVAL_MS = 1000;
  const MAX_POINTS = 300;
  const COLORS = ["#2f6fde", "#e0662f", "#2e9e57", "#c43c6a", "#8b5cc7", "#b08a1a", "#1f9bb0", "#666e7d"];

  function percent(ratios) {
    const values = {};
    for (const [name, ratio] of Object.entries(ratios || {})) {
      values[name] = ratio == null ? null : ratio * 100;
    }
    return values;
  }

  function purgeLags(purge) {
    const values = {
      "published p50": purge.published.p50,
      "published p99": purge.published.p99,
    };
    for (const [region, lag] of Object.entries(purge.applied || {})) {
      values[region + " p99"] = lag.p99 == null ? null : lag.p99;
    }
    return values;
  }

  // Each panel maps a snapshot to {series name: value}; null is a gap, and a panel without any value shows "no data yet".
  const PANELS = [
    {
      id: "requests", title: "Requests per second and status mix", unit: "req/s",
      meters: "backbone.ingest.requests (count by status)",
      values: s => Object.assign({ total: s.requests.perSecond }, s.requests.byStatus),
    },
    {
      id: "latency", title: "Front-door latency", unit: "ms",
      meters: "backbone.ingest.requests (histogram, last second)",
      values: s => ({ p50: s.latencyMs.p50, p95: s.latencyMs.p95, p99: s.latencyMs.p99 }),
    },
    {
      id: "dns", title: "DNS lookups per second by result", unit: "lookups/s",
      meters: "backbone.routing.dns.lookups (by result: cache, region, country, global, nxdomain, error)",
      values: s => s.dnsLookups,
    },
    {
      id: "servers", title: "App server load and health", unit: "req/s",
      meters: "backbone.app.requests per app server; state from the load balancer",
      values: s => Object.fromEntries(s.appServers.map(server => [server.id, server.requestsPerSecond])),
    },
    {
      id: "cache", title: "Cache hit ratio by tier", unit: "%", range: [0, 100],
      meters: "backbone.cache.gets (hit / all, by tier)",
      values: s => percent(s.cacheHitRatio),
    },
    {
      id: "eviction", title: "Commit-to-eviction lag", unit: "ms",
      meters: "backbone.cache.eviction.lag (histogram, last 10 s)",
      values: s => ({ p50: s.evictionLagMs.p50, p99: s.evictionLagMs.p99 }),
    },
    {
      id: "purge", title: "Commit-to-purge lag", unit: "ms",
      meters: "backbone.invalidator.purge.lag (published), backbone.edge.purge.lag (applied, by region)",
      values: s => purgeLags(s.purgeLagMs),
    },
    {
      id: "edge", title: "CDN edge hit ratio by region", unit: "%", range: [0, 100],
      meters: "backbone.edge.requests (hit, stale and revalidated / all but pass)",
      values: s => percent(s.edgeHitRatio),
    },
  ];

  const state = { polls: 0, errors: 0, lastError: null, lastTimestampMs: null, panels: {} };
  window.dashboardState = state;

  function createPanel(definition) {
    const element = document.createElement("section");
    element.className = "panel";
    element.id = "panel-" + definition.id;
    element.dataset.points = "0";
    element.dataset.max = "0";
    element.innerHTML = "<h2></h2><p class=\"meters\"></p><div class=\"chart\"></div><div class=\"no-data\">no data yet</div>";
    element.querySelector("h2").textContent = definition.title + " (" + definition.unit + ")";
    element.querySelector(".meters").textContent = definition.meters;
    document.getElementById("panels").appendChild(element);
    const panel = { definition, element, names: [], xs: [], ys: {}, points: 0, max: 0, chart: null };
    state.panels[definition.id] = { points: 0, max: 0, series: [] };
    return panel;
  }

  function chartOptions(panel) {
    const series = [{}].concat(panel.names.map((name, i) => ({
      label: name,
      stroke: name === "total" ? "#1d2330" : COLORS[i % COLORS.length],
      width: 2,
      // Dashed, so that a total stays visible where one status class carries all requests.
      dash: name === "total" ? [6, 4] : undefined,
      spanGaps: false,
      value: (u, v) => v == null ? "–" : v.toFixed(panel.definition.unit === "ms" ? 1 : 0),
    })));
    const y = { label: panel.definition.unit, size: 60 };
    return {
      width: panel.element.clientWidth - 24,
      height: 210,
      series,
      scales: { x: { time: true }, y: panel.definition.range ? { range: panel.definition.range } : { auto: true } },
      axes: [{}, y],
      legend: { live: false },
    };
  }

  function rebuildChart(panel) {
    if (panel.chart) {
      panel.chart.destroy();
    }
    const data = [panel.xs].concat(panel.names.map(name => panel.ys[name]));
    panel.chart = new uPlot(chartOptions(panel), data, panel.element.querySelector(".chart"));
  }

  function append(panel, timestampSeconds, values) {
    let newNames = false;
    for (const name of Object.keys(values)) {
      if (!panel.names.includes(name)) {
        panel.names.push(name);
        panel.ys[name] = panel.xs.map(() => null);
        newNames = true;
      }
    }

    panel.xs.push(timestampSeconds);
    let received = false;
    for (const name of panel.names) {
      const value = values[name] == null ? null : values[name];
      panel.ys[name].push(value);
      if (value != null) {
        received = true;
        panel.max = Math.max(panel.max, value);
      }
    }
    if (panel.xs.length > MAX_POINTS) {
      panel.xs.shift();
      panel.names.forEach(name => panel.ys[name].shift());
    }

    if (received) {
      panel.points++;
      panel.element.classList.add("has-data");
    }

    if (newNames) {
      // A total goes last, so that uPlot draws it over the series it adds up.
      panel.names.sort((a, b) => (a === "total") - (b === "total"));
    }
    if (panel.names.length > 0 && (newNames || !panel.chart)) {
      rebuildChart(panel);
    } else if (panel.chart) {
      panel.chart.setData([panel.xs].concat(panel.names.map(name => panel.ys[name])));
    }

    panel.element.dataset.points = String(panel.points);
    panel.element.dataset.max = String(panel.max);
    state.panels[panel.definition.id] = { points: panel.points, max: panel.max, series: panel.names.slice() };
  }

  function showHealth(panel, servers) {
    let list = panel.element.querySelector(".health");
    if (!list) {
      list = document.createElement("ul");
      list.className = "health";
      panel.element.appendChild(list);
    }
    list.replaceChildren(...servers.map(server => {
      const item = document.createElement("li");
      const lbState = server.loadBalancerState;
      item.className = lbState === "UP" && server.ready ? "up" : (lbState === "DOWN" || !server.ready ? "down" : "");
      item.textContent = server.id + ": " + lbState + (server.ready ? ", ready" : ", not ready");
      return item;
    }));
  }

  const panels = PANELS.map(createPanel);
  const status = document.getElementById("status");

  function show(snapshot) {
    state.polls++;
    if (snapshot.timestampMs === state.lastTimestampMs) {
      return;
    }
    state.lastTimestampMs = snapshot.timestampMs;
    const seconds = snapshot.timestampMs / 1000;
    for (const panel of panels) {
      append(panel, seconds, panel.definition.values(snapshot));
    }
    showHealth(panels.find(panel => panel.definition.id === "servers"), snapshot.appServers);
    status.className = "status";
    status.textContent = "updated " + new Date(snapshot.timestampMs).toLocaleTimeString()
      + (snapshot.requests.perSecond == null ? "" : " · " + snapshot.requests.perSecond.toFixed(0) + " req/s");
  }

  function poll() {
    fetch("/api/dashboard", { cache: "no-store" })
      .then(response => {
        if (!response.ok) {
          throw new Error("GET /api/dashboard returned " + response.status);
        }
        return response.json();
      })
      .then(show)
      .catch(error => {
        state.errors++;
        state.lastError = String(error);
        status.className = "status error";
        status.textContent = "cannot update: " + error + "; retrying every second";
      })
      .finally(() => setTimeout(poll, POLL_INTERVAL_MS));
  }

  window.addEventListener("resize", () => {
    for (const panel of panels) {
      if (panel.chart) {
        panel.chart.setSize({ width: panel.element.clientWidth - 24, height: 210 });
      }
    }
  });

  poll();
})();
