// The dashboard's variant card: the configured presets, and one stored image shown through them
// with srcset (the browser picks the preset that fits, in AVIF or WebP where it can).
(function () {
  const rows = document.getElementById('variant-presets');
  const sample = document.getElementById('variant-sample');

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  async function show() {
    const { presets } = await window.PixpoolApi.api('/api/presets');
    rows.replaceChildren(
      ...presets.map((p) => {
        const tr = document.createElement('tr');
        tr.append(
          cell(p.name),
          cell(`${p.w ?? 'auto'} × ${p.h ?? 'auto'}`),
          cell(p.fit ?? 'inside'),
          cell(p.fmt ?? 'as requested (fmt=…)'),
        );
        return tr;
      }),
    );
    const { keys } = await window.PixpoolApi.api('/api/list_keys', { method: 'POST' });
    if (keys.length === 0) return;
    const key = keys[0];
    const base = `/images/${encodeURIComponent(key)}`;
    const sized = presets.filter((p) => p.w).sort((a, b) => a.w - b.w);
    const img = document.getElementById('variant-image');
    img.alt = key;
    img.sizes = '220px';
    img.srcset = sized
      .map((p) => `${base}?preset=${encodeURIComponent(p.name)}&fmt=auto ${p.w}w`)
      .join(', ');
    img.src = sized.length ? `${base}?preset=${encodeURIComponent(sized[0].name)}&fmt=auto` : base;
    document.getElementById('variant-caption').textContent = `“${key}” through the presets`;
    sample.hidden = false;
  }

  show().catch(() => undefined);
})();
