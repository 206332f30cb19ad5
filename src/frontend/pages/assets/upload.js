const form = document.getElementById('upload-form');
const status = document.getElementById('status');
const preview = document.getElementById('preview');
const button = form.querySelector('button');
const tokenRow = document.getElementById('token-row');
const tokenInput = document.getElementById('write-token');
// With security.writeToken set, uploads need it: asked for on 401, kept for this tab only.
const TOKEN_KEY = 'pixpool.writeToken';

function authorization() {
  const typed = tokenInput.value.trim();
  if (typed) window.sessionStorage.setItem(TOKEN_KEY, typed);
  const token = window.sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = form.key.value;
  button.disabled = true;
  showStatus(status, 'Uploading…');
  preview.hidden = true;
  try {
    const body = await callApi('/api/upload', {
      method: 'POST',
      body: new FormData(form),
      headers: authorization(),
    });
    showStatus(status, `Stored “${body.key}”.`, 'ok');
    preview.src = `${imageUrl(body.key)}?t=${Date.now()}`;
    preview.alt = body.key;
    preview.hidden = false;
    document.getElementById('view-link').href = `/view?key=${encodeURIComponent(key)}`;
    document.getElementById('view-link').hidden = false;
  } catch (err) {
    if (err.status === 401) {
      window.sessionStorage.removeItem(TOKEN_KEY);
      tokenRow.hidden = false;
      tokenInput.value = '';
      tokenInput.focus();
    }
    showStatus(status, `Upload failed: ${err.message}`, 'error');
  } finally {
    button.disabled = false;
  }
});
