const form = document.getElementById('upload-form');
const status = document.getElementById('status');
const preview = document.getElementById('preview');
const button = form.querySelector('button');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = form.key.value;
  button.disabled = true;
  showStatus(status, 'Uploading…');
  preview.hidden = true;
  try {
    const body = await callApi('/api/upload', { method: 'POST', body: new FormData(form) });
    showStatus(status, `Stored “${body.key}”.`, 'ok');
    preview.src = `${imageUrl(body.key)}?t=${Date.now()}`;
    preview.alt = body.key;
    preview.hidden = false;
    document.getElementById('view-link').href = `/view?key=${encodeURIComponent(key)}`;
    document.getElementById('view-link').hidden = false;
  } catch (err) {
    showStatus(status, `Upload failed: ${err.message}`, 'error');
  } finally {
    button.disabled = false;
  }
});
