// Small helpers shared by the pages: the API answers in the course's shape, success "true"/"false".
// Every call sends X-Pixpool-Client, which the app requires of a browser's state change (a
// cross-site page cannot add it without a CORS preflight, which the app never approves).
async function callApi(url, options = {}) {
  const headers = { ...(options.headers || {}), 'X-Pixpool-Client': 'pages' };
  const response = await fetch(url, { ...options, headers });
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new Error(`${response.status} ${response.statusText}`);
  }
  if (body.success !== 'true') {
    const error = new Error(
      body.error ? body.error.message : `${response.status} ${response.statusText}`,
    );
    error.status = response.status;
    throw error;
  }
  return body;
}

function imageUrl(key) {
  return `/images/${encodeURIComponent(key)}`;
}

let presetList;

/** The configured presets (GET /api/presets), fetched once per page; none if it fails. */
function presets() {
  presetList ??= callApi('/api/presets')
    .then((body) => body.presets)
    .catch(() => []);
  return presetList;
}

/**
 * Points `img` at the key's preset variants: a srcset of every preset with a width, so the browser
 * picks the smallest that fills `sizes`, in AVIF or WebP where it can show them (fmt=auto).
 * Without presets, the original.
 */
function showVariants(img, key, list, sizes) {
  const sized = list.filter((p) => p.w).sort((a, b) => a.w - b.w);
  if (sized.length === 0) {
    img.src = imageUrl(key);
    return;
  }
  const url = (p) => `${imageUrl(key)}?preset=${encodeURIComponent(p.name)}&fmt=auto`;
  img.sizes = sizes;
  img.srcset = sized.map((p) => `${url(p)} ${p.w}w`).join(', ');
  img.src = url(sized[0]);
}

function showStatus(element, text, kind) {
  element.textContent = text;
  element.className = `status ${kind || ''}`;
}
