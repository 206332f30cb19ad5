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

function showStatus(element, text, kind) {
  element.textContent = text;
  element.className = `status ${kind || ''}`;
}
