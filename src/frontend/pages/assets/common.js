// Small helpers shared by the pages: the API answers in the course's shape, success "true"/"false".
async function callApi(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new Error(`${response.status} ${response.statusText}`);
  }
  if (body.success !== 'true') {
    throw new Error(body.error ? body.error.message : `${response.status} ${response.statusText}`);
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
