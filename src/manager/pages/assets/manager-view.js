// Renders the manager API's answers into the dashboard (text only: nothing from the server is HTML).
(function () {
  const COLORS = [
    '#2f6fde',
    '#1e8e3e',
    '#d97706',
    '#7b4fd6',
    '#0e8fa3',
    '#c0392b',
    '#5d6d7e',
    '#b8860b',
  ];
  const $ = (id) => document.getElementById(id);

  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'style') element.style.cssText = value;
      else element.setAttribute(name, value);
    }
    for (const child of children) element.append(child);
    return element;
  }

  const percent = (x) => `${(x * 100).toFixed(1)} %`;
  const count = (n) => Number(n).toLocaleString('en-US');
  function megabytes(bytes) {
    const mb = bytes / 1024 / 1024;
    return `${mb < 10 ? mb.toFixed(2) : mb.toFixed(1)} MB`;
  }
  const clock = (iso) => new Date(iso).toLocaleTimeString('en-GB');

  function renderKpis(pool, stats, policy) {
    const polled = pool.nodes.filter((n) => n.cache);
    $('kpi-nodes').textContent = String(pool.size);
    $('kpi-miss').textContent = percent(stats.lastMinute.missRate);
    $('kpi-hit').textContent = percent(stats.lastMinute.hitRate);
    $('kpi-items').textContent = count(polled.reduce((sum, n) => sum + n.cache.items, 0));
    $('kpi-size').textContent = megabytes(polled.reduce((sum, n) => sum + n.cache.bytesUsed, 0));
    $('kpi-lookups').textContent = count(stats.lastMinute.lookups);
    $('kpi-mode').textContent = policy.mode === 'auto' ? 'Auto' : 'Manual';
  }

  function renderPool(pool) {
    $('epoch').textContent = String(pool.epoch);
    $('grow').disabled = pool.resize.running || pool.size >= pool.max;
    $('shrink').disabled = pool.resize.running || pool.size <= pool.min;
    const sizeInput = $('size-input');
    sizeInput.min = String(pool.min);
    sizeInput.max = String(pool.max);
    if (document.activeElement !== sizeInput) sizeInput.value = String(pool.size);
    renderResize(pool.resize);
    const color = new Map(pool.nodes.map((n, i) => [n.id, COLORS[i % COLORS.length]]));
    const label = new Map(pool.nodes.map((n, i) => [n.id, `node ${i + 1}`]));
    $('regions').replaceChildren(
      ...pool.owners.map((owner, region) =>
        el(
          'div',
          { class: 'region', style: `background:${color.get(owner) || '#9aa5b1'}`, title: owner },
          el('b', {}, String(region)),
          label.get(owner) || owner,
        ),
      ),
    );
    $('nodes').replaceChildren(...pool.nodes.map((node) => nodeRow(node, color.get(node.id))));
  }

  function renderResize(resize) {
    const box = $('resize');
    const last = resize.last;
    if (resize.running && resize.progress) {
      box.className = 'resize';
      box.replaceChildren(
        el('strong', {}, 'Resizing: '),
        `${resize.progress.what} — ${resize.progress.step}`,
        el('div', { class: 'bar' }),
      );
      box.hidden = false;
    } else if (last && last.outcome === 'failed') {
      box.className = 'resize failed';
      box.replaceChildren(
        el('strong', {}, `Resize ${last.from} → ${last.to} failed: `),
        last.error || '',
      );
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }

  function nodeRow(node, color) {
    const health = node.health
      ? el(
          'span',
          { class: `badge ${node.health.ok ? 'ok' : 'down'}`, title: node.health.error || '' },
          // Quarantined: its keys are read from storage until it rejoins empty (or is replaced).
          node.health.state === 'quarantined'
            ? node.health.ok
              ? 'rejoining'
              : 'quarantined'
            : node.health.ok
              ? 'healthy'
              : 'not answering',
        )
      : el('span', { class: 'badge' }, 'checking');
    const cache = node.cache;
    return el(
      'tr',
      { 'data-node': node.id },
      el('td', {}, el('span', { class: 'swatch', style: `background:${color}` }), node.id),
      el('td', {}, node.url),
      el('td', {}, String(node.regions.length)),
      el('td', {}, cache ? count(cache.items) : '–'),
      el(
        'td',
        {},
        cache ? `${megabytes(cache.bytesUsed)} of ${megabytes(cache.capacityBytes)}` : '–',
      ),
      el('td', {}, health),
    );
  }

  function renderPolicy(policy) {
    const form = $('policy-form');
    for (const radio of form.elements.mode) radio.checked = radio.value === policy.mode;
    for (const name of ['maxMiss', 'minMiss', 'expRatio', 'shrinkRatio'])
      form.elements[name].value = String(policy[name]);
  }

  function renderCache(cache) {
    const form = $('cache-form');
    form.elements.capacityMb.value = String(cache.capacityMb);
    form.elements.policy.value = cache.policy;
  }

  function renderDecisions(decisions) {
    $('no-decisions').hidden = decisions.length > 0;
    $('decisions').replaceChildren(
      ...decisions.map((d) =>
        el(
          'tr',
          {},
          el('td', {}, clock(d.at)),
          el('td', {}, d.missRate === null ? '–' : `${percent(d.missRate)} (${count(d.lookups)})`),
          el('td', {}, d.action === 'none' ? String(d.n) : `${d.n} → ${d.target}`),
          el(
            'td',
            {},
            el('span', { class: `badge ${d.action}` }, d.action === 'none' ? 'hold' : d.action),
          ),
          el('td', {}, d.reason),
          el(
            'td',
            {},
            d.outcome
              ? el('span', { class: `badge ${d.outcome}`, title: d.error || '' }, d.outcome)
              : '',
          ),
        ),
      ),
    );
  }

  window.PixpoolView = {
    clock,
    kpis: renderKpis,
    pool: renderPool,
    policy: renderPolicy,
    cache: renderCache,
    decisions: renderDecisions,
  };
})();
