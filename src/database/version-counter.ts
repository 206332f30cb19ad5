/*
 * Where versions come from: one counter row in the database, raised inside the transaction that
 * commits the write it versions. Never a wall clock.
 *
 * Invariant: versions are handed out in commit order, across keys, across deletes (a delete-all
 * never lowers the counter) and across every instance sharing the database: a write that commits
 * after another gets a higher version, whatever the instances' clocks say. So "newer" (the
 * cache nodes' put-if-newer, tombstones and floors, the near caches, the ETag "v<version>") means
 * "committed later", and a key re-created after a delete-all outranks every copy of its former
 * life still held anywhere.
 *
 * Steps, in every writing transaction of the key table, before it reads or writes any row:
 * 1. UPDATE version_counter SET value = value + 1: holds the counter's row lock (MySQL) or the
 *    write lock (SQLite) until commit, so writers of the key table run one at a time and the lock
 *    order is always counter first (no deadlock between an upsert and a delete-all).
 * 2. SELECT value: this transaction's version.
 * 3. (upsert) If the key's row already has a version at or above it, the row was written without
 *    the counter (an instance of an older release during a rolling upgrade, by its clock): the
 *    counter jumps past it (versionAbove), so the key's versions still rise.
 * Crash or rollback at any step: the increment rolls back with the write; the next writer takes the
 * same number, which no committed row has. Numbers skipped by nothing: gaps are harmless, only the
 * order matters.
 *
 * The cost: writes of the key table serialise on one row for as long as their transaction lasts
 * (a few statements; the blob is written before it). That is what buys a total order without a
 * clock.
 */
import { EntityManager } from 'typeorm';
import { VersionCounterEntity } from './version-counter.entity';

export const VERSION_COUNTER_ID = 1;

/** Raises the counter in `manager`'s transaction and returns the new value (steps 1 and 2). */
export async function takeVersion(manager: EntityManager): Promise<number> {
  const counter = manager.getRepository(VersionCounterEntity);
  await counter.increment({ id: VERSION_COUNTER_ID }, 'value', 1);
  const row = await counter.findOneBy({ id: VERSION_COUNTER_ID });
  if (!row) throw new Error('database: version_counter has no row: run the migrations');
  return row.value;
}

/**
 * A version above `version` that the counter has not handed out: for a row written without the
 * counter (an app instance of a release before it, during a rolling upgrade, versions by its
 * clock). Called with the counter's lock held (after takeVersion), so it stays in commit order.
 */
export async function versionAbove(
  manager: EntityManager,
  taken: number,
  version: number,
): Promise<number> {
  if (taken > version) return taken;
  await manager
    .getRepository(VersionCounterEntity)
    .update({ id: VERSION_COUNTER_ID }, { value: version + 1 });
  return version + 1;
}
