// The dashboard's calls to the guarded manager API, with the admin token the operator typed in.
(function () {
  const TOKEN_KEY = 'pixpool.adminToken';
  const storage = window.sessionStorage;

  /** 401 or 403: the page asks for the token instead of reporting an error. */
  class AuthError extends Error {
    constructor(message, status, sentToken) {
      super(message);
      this.status = status;
      this.sentToken = sentToken;
    }
  }

  /**
   * Every call carries the token the operator gave (kept for this tab only), and the header the
   * app requires of browsers' state changes: a cross-site page cannot add it without a preflight.
   */
  async function api(path, options = {}) {
    const headers = { 'X-Pixpool-Client': 'dashboard' };
    const token = storage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method: options.method || 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const message =
      body && body.error ? body.error.message : `${response.status} ${response.statusText}`;
    if (response.status === 401 || response.status === 403) {
      throw new AuthError(message, response.status, Boolean(token));
    }
    if (!body || body.success !== 'true') throw new Error(message);
    return body;
  }

  /**
   * A card's refresh: GET `path` now and every `everyMs`, handing each answer to `render`. Errors
   * are left to the main script, which reports auth and connection trouble once for the page.
   */
  function poll(path, render, everyMs = 5000) {
    const refresh = async () => {
      let view;
      try {
        view = await api(path);
      } catch {
        return;
      }
      render(view);
    };
    refresh();
    setInterval(refresh, everyMs);
  }

  window.PixpoolApi = {
    api,
    poll,
    AuthError,
    // Kept for this tab only: sessionStorage dies with the tab, unlike localStorage.
    setToken: (token) => storage.setItem(TOKEN_KEY, token),
    forgetToken: () => storage.removeItem(TOKEN_KEY),
  };
})();
