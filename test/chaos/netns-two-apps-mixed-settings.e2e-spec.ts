import { describeTwoAppsCutOff } from './two-apps-cut-off.suite';

// The same scenario with instances that disagree on near-cache settings: a1 (which still reaches
// the node) holds near copies, a2 (cut off from it, the uploader of the probes) has its near
// cache off, and the nodes grant different leases. Waits come from the nodes' grants.
describeTwoAppsCutOff(8, { a2NearCacheMb: 0, nodeLeaseMs: [1200, 4000, 2500] });
