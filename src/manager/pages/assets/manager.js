// The manager dashboard: polls the guarded /api/manager routes and drives the pool controls.
(function () {
  const REFRESH_MS = 5000;
  const RESIZING_REFRESH_MS = 1000;
  const { api, AuthError } = window.PixpoolApi;
  const view = window.PixpoolView;
  const $ = (id) => document.getElementById(id);
  const charts = window.PixpoolCharts.create();
  let timer = null;
  let blocked = false;
  const edited = { policy: false, cache: false };

  function showAuth({ status, sentToken }) {
    blocked = true;
    $('auth').hidden = false;
    $('auth-message').textContent =
      status === 403
        ? 'This manager answers only callers on the same machine, because no admin token is configured ' +
          '(security.adminToken). Open it from the server, or configure a token and enter it here.'
        : sentToken
          ? 'The admin token was refused (401). Check it and enter it again.'
          : 'This manager needs the admin token (security.adminToken). Enter it to continue.';
    $('auth-token').focus();
  }

  function say(id, text, kind) {
    const element = $(id);
    element.textContent = text;
    element.className = `status ${kind || ''}`;
  }

  async function refresh() {
    const [pool, stats, scaler, cache] = await Promise.all([
      api('/api/manager/pool'),
      api('/api/manager/stats?minutes=30'),
      api('/api/manager/autoscaler'),
      api('/api/manager/cache'),
    ]);
    blocked = false;
    $('auth').hidden = true;
    view.kpis(pool, stats, scaler.policy);
    window.PixpoolCharts.update(charts, stats.points);
    view.pool(pool);
    // Never overwrite what the operator is typing.
    if (!edited.policy) view.policy(scaler.policy);
    if (!edited.cache) view.cache(cache);
    view.decisions(scaler.decisions);
    $('updated').textContent = `Updated ${view.clock(stats.now)}`;
    return pool.resize.running;
  }

  /** Polls every 5 s, every second while a resize runs so its progress shows. */
  async function loop() {
    clearTimeout(timer);
    let resizing = false;
    try {
      resizing = await refresh();
    } catch (error) {
      if (error instanceof AuthError) showAuth(error);
      else $('updated').textContent = `Update failed: ${error.message}`;
    }
    if (!blocked) timer = setTimeout(loop, resizing ? RESIZING_REFRESH_MS : REFRESH_MS);
  }

  /** Runs an action, reports its outcome in the card's status line and refreshes the page at once. */
  async function act(statusId, work, done) {
    say(statusId, 'Working…');
    try {
      const body = await work();
      say(statusId, done(body), 'ok');
    } catch (error) {
      say(statusId, error.message, 'error');
      if (error instanceof AuthError) showAuth(error);
    }
    void loop();
  }

  const resizeDone = (body) => `Resizing ${body.resize.from} → ${body.resize.to}…`;
  $('grow').addEventListener('click', () =>
    act('pool-status', () => api('/api/manager/pool/grow', { method: 'POST' }), resizeDone),
  );
  $('shrink').addEventListener('click', () =>
    act('pool-status', () => api('/api/manager/pool/shrink', { method: 'POST' }), resizeDone),
  );
  $('size-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const size = Number($('size-input').value);
    act(
      'pool-status',
      () => api('/api/manager/pool/size', { method: 'PUT', body: { size } }),
      resizeDone,
    );
  });

  $('policy-form').addEventListener('input', () => (edited.policy = true));
  $('policy-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target.elements;
    const body = { mode: form.mode.value };
    for (const name of ['maxMiss', 'minMiss', 'expRatio', 'shrinkRatio'])
      body[name] = Number(form[name].value);
    act(
      'policy-status',
      () => api('/api/manager/autoscaler', { method: 'PUT', body }),
      (answer) => {
        edited.policy = false;
        return `Saved: ${answer.policy.mode} mode, applies at the next check.`;
      },
    );
  });

  $('cache-form').addEventListener('input', () => (edited.cache = true));
  $('cache-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target.elements;
    const body = { capacityMb: Number(form.capacityMb.value), policy: form.policy.value };
    act(
      'cache-status',
      () => api('/api/manager/cache', { method: 'PUT', body }),
      (answer) => {
        edited.cache = false;
        const missed = answer.notReached.length
          ? ` (${answer.notReached.length} node(s) will get it at the next poll)`
          : '';
        return `Saved: ${answer.capacityMb} MB per node, ${answer.policy}${missed}.`;
      },
    );
  });
  $('clear-cache').addEventListener('click', () =>
    act(
      'cache-status',
      () => api('/api/manager/cache/clear', { method: 'POST' }),
      () => 'Every cached copy dropped.',
    ),
  );

  $('delete-all').addEventListener('click', () => {
    $('delete-confirm').hidden = false;
    $('delete-all').hidden = true;
  });
  function closeConfirm() {
    $('delete-confirm').hidden = true;
    $('delete-all').hidden = false;
  }
  $('delete-no').addEventListener('click', closeConfirm);
  $('delete-yes').addEventListener('click', () => {
    closeConfirm();
    act(
      'data-status',
      () => api('/api/manager/data', { method: 'DELETE' }),
      () => 'All images, keys and cached copies deleted.',
    );
  });

  $('auth-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('auth-token').value.trim();
    if (token) window.PixpoolApi.setToken(token);
    $('auth-token').value = '';
    void loop();
  });
  $('auth-forget').addEventListener('click', () => {
    window.PixpoolApi.forgetToken();
    void loop();
  });
  $('token-button').addEventListener('click', () => {
    $('auth').hidden = false;
    $('auth-message').textContent =
      'Enter the admin token (security.adminToken) to send with every call from this tab.';
    $('auth-token').focus();
  });

  void loop();
})();
