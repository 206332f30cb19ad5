// The dashboard's near-cache card: L1 bytes, items and hit share of every front-end.
(function () {
  const body = document.getElementById('near-frontends');
  const status = document.getElementById('near-status');

  const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  window.PixpoolApi.poll('/api/manager/near', (view) => {
    body.replaceChildren(
      ...view.frontEnds.map((f) => {
        const tr = document.createElement('tr');
        tr.append(
          cell(f.self ? `${f.name} (this one)` : f.name),
          cell(String(f.items)),
          cell(`${mib(f.bytes)} of ${mib(f.capacityBytes)} MiB`),
          cell(`${(f.hitShare * 100).toFixed(1)} %`),
          cell(`${f.hits} / ${f.reads}`),
        );
        return tr;
      }),
    );
    status.hidden = view.frontEnds.length > 0;
    if (!view.enabled && view.frontEnds.length === 0)
      status.textContent = 'Near cache off (nearCache.capacityMb = 0).';
    else if (view.frontEnds.length === 0) status.textContent = 'No front-end has reported yet.';
  });
})();
