/*
 * Crash consistency of an upload: the invalidation outbox and the orphan-object sweep.
 *
 * Invariants.
 *  (I1) Once an upload of (key, v) is committed and the app is back after any crash, no cache
 *       node serves a copy of key older than v.
 *  (I2) Every object in storage is named by a row, or is younger than resilience.orphanGraceMs,
 *       or is deleted by the next orphan sweep; an object a committed row names is never deleted.
 *       (The sweep lists the uploads of the last orphanSweepLookbackHours only: an unnamed object
 *       uploaded before that is left in place, costing storage, never an image; see
 *       orphan-sweeper.service.ts.)
 *
 * Upload steps (ImageService.upload):
 *  0. make the key pending (src/frontend/write-fence.ts): every wait of the upload is here,
 *     before its object exists, so from step 1 to step 2 only their two deadlines can pass;
 *  1. put the bytes under a fresh random object name;
 *  2. one transaction: upsert the row (key → object, version v) AND insert the outbox record
 *     (key, v) — the row and its pending invalidation commit together or not at all;
 *  3. delete the key's previous object (best effort);
 *  4. invalidate (key, v) at the owner node (and the previous owner); a node that cannot be told
 *     is removed from the pool before we go on;
 *  5. ack: delete the outbox record; then the upload is acknowledged.
 *
 * What a crash (kill -9, power cut) after each step leaves, and who repairs it:
 *  after 1: an object no row names — the orphan sweeper deletes it once older than the grace.
 *  after 2: a row at v, caches possibly holding v-1, and an outbox record (key, v) — replayed at
 *           the next start of any instance (before it listens) and by the periodic sweeper of a
 *           live instance, so (I1) holds "once the app is back". Replay is idempotent: a node
 *           told (key, v) twice drops its copy and refuses fills older than v twice.
 *  after 3: as after 2; the previous object may or may not be gone: if not, the sweeper takes it.
 *  after 4: the record is replayed needlessly; harmless (idempotent).
 *  after 5: nothing to repair.
 * A timed-out step 2 (database stalled) is the same as a crash after 1 or after 2, we cannot
 * know which: the client got 503 and the object is left for the sweeper, which keeps it if the
 * commit landed after all (it checks rows, not our memory of what happened).
 *
 * Why the sweepers are safe on every instance at once (they act only on the leader, but nothing
 * depends on that): replays are idempotent, and an orphan is deleted only if, at the time of the
 * check, it is older than the grace and no row names it. A row can come to name an object later
 * only through an upload that wrote that object and has not committed yet; every upload step has
 * a deadline (storageTimeoutMs, databaseTimeoutMs), so with a grace far beyond their sum no
 * in-flight upload can own an object that old. The sweeper refuses to start with a grace below twice that sum; the grace must also cover the
 * clock skew between the app and the store (object times are the store's), which the default
 * 10 minutes does.
 *
 * Why not derive invalidations from the database's commit log (as Facebook's mcsqueal does): it
 * would need binlog access on RDS and a separate tailer process; the outbox table gives the same
 * guarantee with one extra insert per upload, on SQLite as on MySQL.
 */
export { OutboxStore } from './outbox.store';
export type { PendingInvalidation } from './outbox.store';
export { OutboxService } from './outbox.service';
export { OrphanSweeper } from './orphan-sweeper.service';
