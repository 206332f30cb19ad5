const grid = document.getElementById('keys');
const count = document.getElementById('count');
const filter = document.getElementById('filter');
let allKeys = [];
let variantPresets = [];

function render() {
  const wanted = filter.value.trim().toLowerCase();
  const keys = allKeys.filter((key) => key.toLowerCase().includes(wanted));
  count.textContent = `${keys.length} of ${allKeys.length} keys`;
  grid.replaceChildren(
    ...keys.map((key) => {
      const tile = document.createElement('a');
      tile.className = 'tile';
      tile.href = `/view?key=${encodeURIComponent(key)}`;
      tile.dataset.key = key;
      const img = document.createElement('img');
      img.loading = 'lazy';
      img.alt = key;
      showVariants(img, key, variantPresets, '(max-width: 480px) 45vw, 220px');
      const label = document.createElement('span');
      label.textContent = key;
      tile.append(img, label);
      return tile;
    }),
  );
  document.getElementById('empty').hidden = allKeys.length > 0;
}

async function load() {
  try {
    const [body, list] = await Promise.all([
      callApi('/api/list_keys', { method: 'POST' }),
      presets(),
    ]);
    allKeys = body.keys;
    variantPresets = list;
    render();
  } catch (err) {
    showStatus(document.getElementById('status'), `Could not list keys: ${err.message}`, 'error');
  }
}

filter.addEventListener('input', render);
load();
