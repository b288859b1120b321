/**
 * Virtual time in the simulations: the event queue orders events by it, and message and disk
 * latencies are drawn in it. A replica's tick (its election and heartbeat clock) is TICK units.
 */
export const TICK = 10;
