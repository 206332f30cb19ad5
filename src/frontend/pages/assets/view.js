const key = new URLSearchParams(location.search).get('key') || '';
const status = document.getElementById('status');

async function load() {
  document.getElementById('title').textContent = key || '(no key)';
  if (!key) {
    showStatus(status, 'No key given.', 'error');
    return;
  }
  try {
    const meta = await callApi(`/api/images/${encodeURIComponent(key)}`);
    const img = document.getElementById('image');
    img.src = `${imageUrl(key)}?v=${meta.version}`;
    img.alt = key;
    img.hidden = false;
    const rows = {
      Key: meta.key,
      Type: meta.contentType,
      Size: `${meta.byteSize.toLocaleString()} bytes`,
      Version: String(meta.version),
      'SHA-256': meta.checksum,
      Uploaded: new Date(meta.updatedAt).toLocaleString(),
    };
    document.getElementById('meta').replaceChildren(
      ...Object.entries(rows).flatMap(([name, value]) => {
        const dt = document.createElement('dt');
        dt.textContent = name;
        const dd = document.createElement('dd');
        dd.textContent = value;
        return [dt, dd];
      }),
    );
  } catch (err) {
    showStatus(status, err.message, 'error');
  }
}

load();
