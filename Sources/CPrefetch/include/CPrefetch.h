#ifndef LONGMIX_CPREFETCH_H
#define LONGMIX_CPREFETCH_H

/// Asks the CPU to start loading the cache line holding `address` into all cache levels, without
/// waiting for it (a hint: no fault, no effect on results). Swift has no prefetch of its own; the
/// tokenizer's segment cache issues these for a run of lookups before doing them, so their memory
/// latencies overlap instead of queueing one behind another.
static inline void longmix_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
