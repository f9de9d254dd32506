/**
 * @file prng.h
 * A small deterministic pseudo-random generator: the same seed gives the same
 * sequence on every hypervisor and every build, so that a generated case is
 * named by its seed and number alone and reruns identically.
 *
 * The generator is SplitMix64 (a Weyl sequence through a 64-bit mixing
 * function): one word of state, no multiplication tables, good enough spread
 * for choosing test values.  Each (seed, stream) pair starts its own sequence,
 * which is how the state tests give every case a stream of its own.
 */
#ifndef HVT_PRNG_H
#define HVT_PRNG_H

#include "libhvt.h"

struct prng {
	uint64_t state;
};

/** Starts the sequence of @seed and @stream (e.g. a case number). */
void prng_seed(struct prng *rng, uint64_t seed, uint64_t stream);

/** The next 64 random bits. */
uint64_t prng_next(struct prng *rng);

/** A number in [0, @bound), unbiased; 0 when @bound is 0. */
uint64_t prng_below(struct prng *rng, uint64_t bound);

/** True with probability @percent / 100. */
bool prng_percent(struct prng *rng, unsigned percent);

/** One bit index among the set bits of @mask, chosen uniformly; 64 when @mask is 0. */
unsigned prng_bit_of(struct prng *rng, uint64_t mask);

#endif
