import { createHash } from 'node:crypto';
import type { AppProcess } from '../support/app-process';
import { ALL_KEYS, History, PRESENT } from '../support/history/history';
import { versionOf } from '../support/http';
import type { ColouredUploads } from '../support/coloured-uploads';
import { Random } from '../support/seeded-random';
import { Focus, FOCUS_SHARE } from './nemesis-profile';

/** Longer than any deadline in the app under CHAOS_RESILIENCE_ENV plus a lease wait or two. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface ClientCounts {
  uploads: number;
  reads: number;
  /** Of the reads, those of a variant (a preset), judged as reads of the upload they show. */
  variantReads: number;
  /** Of the reads, those a near cache answered (X-Near-Cache: HIT). */
  nearHits: number;
  listings: number;
  deleteAlls: number;
  clearCaches: number;
  /** Requests that got no answer or an error (kept in the history as "unknown" or left out). */
  failed: number;
  /** The failures by route and answer, e.g. "upload 503 database unavailable". */
  failures: Record<string, number>;
}

/** The version an ETag names: an original's "v7", or a variant's "v7-8x-inside-png-q80". */
const etagVersion = (etag: string | null): number | undefined => {
  const match = /^"v(\d+)(?:-[^"]*)?"$/.exec(etag ?? '');
  return match ? Number(match[1]) : undefined;
};

export const hashOf = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** The preset the nemesis front-ends define (nemesis-world.ts): a lossless 8-pixel-wide PNG. */
export const NEMESIS_PRESET = 'nemesis';

/**
 * The keys the clients use. Hot keys take most uploads and reads, so uploads through both
 * front-ends overlap and reads race them; cold keys are written about once every two seconds each
 * and read in between, so near
 * caches hold them between uploads, as they hold a site's images: the copies a missed
 * invalidation or a lease not waited out would leave stale.
 */
export interface NemesisKeys {
  hot: readonly string[];
  cold: readonly string[];
}

export function nemesisKeys(hot: number, cold: number): NemesisKeys {
  return {
    hot: Array.from({ length: hot }, (_, i) => `hot-${i}`),
    cold: Array.from({ length: cold }, (_, i) => `cold-${i}`),
  };
}

export const allKeys = (keys: NemesisKeys): string[] => [...keys.hot, ...keys.cold];

/** Of the uploads, the share that goes to a cold key. */
const COLD_UPLOAD_SHARE = 0.1;
/**
 * Of the other operations, the share on a cold key: hot keys are read most, so reads race the
 * uploads to them (a fill of the image before an upload landing after its commit, say).
 */
const COLD_READ_SHARE = 0.35;

/**
 * One client: one request at a time against its front-end, each recorded in the history.
 * Uploads of fresh images (mostly to hot keys), each a colour of its own, reads by /images/:key,
 * of a variant of it and by /api/key/:key (hot and cold keys alike), listings, and now and then
 * delete_all and clear cache. Half of its acknowledged uploads it reads back at once through the
 * other front-end, as a person who just uploaded tells a friend: the read that a late
 * invalidation would answer with the old image.
 */
export class NemesisClient {
  /** The last request found nothing listening (a front-end being restarted). */
  private lastRefused = false;

  constructor(
    readonly name: string,
    private readonly app: AppProcess,
    private readonly via: string,
    private readonly other: { app: AppProcess; via: string },
    private readonly history: History,
    private readonly uploads: ColouredUploads,
    private readonly random: Random,
    private readonly keys: NemesisKeys,
    private readonly counts: ClientCounts,
    private readonly focus: () => Focus | null = () => null,
  ) {}

  private pick(from: readonly string[]): string {
    return from[Math.floor(this.random() * from.length)];
  }

  async run(running: () => boolean): Promise<void> {
    while (running()) {
      const ok = await this.one().catch(() => false);
      // A front-end being restarted refuses at once: do not spin on it.
      if (!ok) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** One operation of the mix; false when it failed. */
  async one(): Promise<boolean> {
    const focus = this.focus();
    if (focus && focus.until > Date.now() && this.random() < FOCUS_SHARE)
      return this.onFocus(focus);
    const roll = this.random();
    if (roll < 0.3) {
      const cold = this.random() < COLD_UPLOAD_SHARE;
      const key = this.pick(cold ? this.keys.cold : this.keys.hot);
      const acknowledged = await this.upload(key);
      if (acknowledged && this.random() < 0.5) await this.readBack(key);
      return acknowledged;
    }
    const key = this.pick(this.random() < COLD_READ_SHARE ? this.keys.cold : this.keys.hot);
    if (roll < 0.5) return this.readImage(key);
    if (roll < 0.65) return this.readVariant(key);
    if (roll < 0.89) return this.readJson(key);
    // Rare enough (about one of each every few seconds) that near caches fill between them.
    if (roll < 0.998) return this.list();
    if (roll < 0.999) return this.clearCache();
    return this.deleteAll();
  }

  /**
   * On the partitioned front-end, a read of the focus key (a near hit of its copy, if it still
   * has one); on the other, an upload of it, read back through the partitioned one.
   */
  private async onFocus(focus: Focus): Promise<boolean> {
    if (this.via === focus.partitioned) {
      const roll = this.random();
      if (roll < 0.5) return this.readImage(focus.key);
      if (roll < 0.8) return this.readJson(focus.key);
      return this.readVariant(focus.key);
    }
    const acknowledged = await this.upload(focus.key);
    if (acknowledged) await this.readBack(focus.key);
    return acknowledged;
  }

  async upload(key: string): Promise<boolean> {
    const png = this.uploads.make();
    const op = this.history.invoke(this.name, key, 'write', hashOf(png), `${this.via} upload`);
    this.counts.uploads++;
    const form = new FormData();
    form.append('key', key);
    form.append('file', new Blob([new Uint8Array(png)]), 'image.png');
    const res = await this.request('/api/upload', { method: 'POST', body: form });
    if (res?.status === 200) {
      op.ok({ version: versionOf(res.headers.get('etag')) });
      return true;
    }
    // A refusal before anything was written (bad input, too many uploads) did nothing; an error
    // answer or none leaves the outcome open (a database deadline may pass after the commit).
    if (res && res.status >= 400 && res.status < 500) op.cancel();
    else if (!res && this.lastRefused)
      op.cancel(); // the connection was refused: nothing was sent
    else op.unknown();
    this.counts.failed++;
    return false;
  }

  async readImage(key: string, through = { app: this.app, via: this.via }): Promise<boolean> {
    const route = `/images/${encodeURIComponent(key)}`;
    return this.read(key, route, 'GET', through, async (res) =>
      Buffer.from(await res.arrayBuffer()),
    );
  }

  /**
   * A variant is a read of the upload it was rendered from (its colour), at the version its ETag
   * names: an older variant after a newer upload is as stale as an older original.
   */
  async readVariant(key: string, through = { app: this.app, via: this.via }): Promise<boolean> {
    const route = `/images/${encodeURIComponent(key)}?preset=${NEMESIS_PRESET}`;
    this.counts.variantReads++;
    return this.read(key, route, 'GET', through, async (res) => {
      const source = await this.uploads.sourceOf(Buffer.from(await res.arrayBuffer()));
      // Not rendered from any upload of this run: a value no write has, which the checker flags.
      return source ?? Buffer.from('a variant of no upload');
    });
  }

  async readJson(key: string, through = { app: this.app, via: this.via }): Promise<boolean> {
    const route = `/api/key/${encodeURIComponent(key)}`;
    return this.read(key, route, 'POST', through, async (res) => {
      const body = (await res.json()) as { content: string };
      return Buffer.from(body.content, 'base64');
    });
  }

  private readBack(key: string): Promise<boolean> {
    const roll = this.random();
    if (roll < 0.4) return this.readImage(key, this.other);
    if (roll < 0.6) return this.readVariant(key, this.other);
    return this.readJson(key, this.other);
  }

  async list(): Promise<boolean> {
    const keys = allKeys(this.keys);
    const ops = keys.map((key) =>
      this.history.invoke(this.name, key, 'exists', null, `${this.via} list_keys`),
    );
    this.counts.listings++;
    const res = await this.request('/api/list_keys', { method: 'POST' });
    const body = res?.status === 200 ? await res.json().catch(() => null) : null;
    if (!body) {
      for (const op of ops) op.cancel();
      this.counts.failed++;
      return false;
    }
    const listed = new Set((body as { keys: string[] }).keys);
    keys.forEach((key, i) => ops[i].ok({ value: listed.has(key) ? PRESENT : null }));
    return true;
  }

  async deleteAll(): Promise<boolean> {
    const op = this.history.invoke(this.name, ALL_KEYS, 'delete', null, `${this.via} delete_all`);
    this.counts.deleteAlls++;
    const res = await this.request('/api/delete_all', { method: 'POST' });
    await res?.arrayBuffer();
    if (res?.status === 200) op.ok();
    else if (!res && this.lastRefused) op.cancel();
    if (res?.status !== 200) this.counts.failed++;
    return res?.status === 200;
  }

  /** Changes no image: not in the history, but it empties caches under the readers. */
  async clearCache(): Promise<boolean> {
    this.counts.clearCaches++;
    const res = await this.request('/api/clear/cache', { method: 'DELETE' });
    await res?.arrayBuffer();
    return res?.status === 200;
  }

  private async read(
    key: string,
    route: string,
    method: string,
    through: { app: AppProcess; via: string },
    image: (res: Response) => Promise<Buffer>,
  ): Promise<boolean> {
    const op = this.history.invoke(
      this.name,
      key,
      'read',
      null,
      `${through.via} ${method} ${route}`,
    );
    this.counts.reads++;
    const res = await this.request(route, { method }, through.app);
    if (res?.status === 200) {
      if (res.headers.get('x-near-cache') === 'HIT') this.counts.nearHits++;
      const body = await image(res).catch(() => null);
      if (body) op.ok({ value: hashOf(body), version: etagVersion(res.headers.get('etag')) });
      else op.cancel(); // cut off in the middle of the answer: it returned nothing
      return body !== null;
    }
    await res?.arrayBuffer().catch(() => undefined);
    if (res?.status === 404) {
      op.ok({ value: null });
      return true;
    }
    op.cancel(); // a read that failed returned nothing
    this.counts.failed++;
    return false;
  }

  private async request(
    route: string,
    init: RequestInit,
    app = this.app,
  ): Promise<Response | null> {
    const what = route.replace(/^\/(api\/)?/, '').split('/')[0];
    this.lastRefused = false;
    try {
      const res = await fetch(`${app.url}${route}`, {
        ...init,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (res.status >= 400 && res.status !== 404) {
        // Read the reason from a copy: the caller still reads the answer itself.
        const text = await res
          .clone()
          .text()
          .catch(() => '');
        const reason = /"message":"([a-z ]+)/.exec(text)?.[1] ?? '';
        this.fail(`${what} ${res.status} ${reason}`.trim());
      }
      return res;
    } catch (err) {
      const code = ((err as Error).cause as { code?: string } | undefined)?.code;
      this.lastRefused = code === 'ECONNREFUSED';
      this.fail(`${what} ${code ?? (err as Error).name}`);
      return null;
    }
  }

  private fail(reason: string): void {
    this.counts.failures[reason] = (this.counts.failures[reason] ?? 0) + 1;
  }
}
