export const POOL_ALLOCATOR = Symbol('PoolAllocator');

/** A transfer streams whole regions; a hung sender must not hold the rebalance lock for long. */
export const TRANSFER_TIMEOUT_MS = 120_000;
