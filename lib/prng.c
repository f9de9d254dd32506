/* SplitMix64 (see prng.h); the constants are the published ones of the algorithm. */
#include "prng.h"

#define WEYL_INCREMENT 0x9e3779b97f4a7c15ull

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void prng_seed(struct prng *rng, uint64_t seed, uint64_t stream)
{
	/* Mixing the seed first keeps (s, c) and (s + 1, c - 1) apart. */
	rng->state = mix64(seed + WEYL_INCREMENT) ^ mix64(~stream);
}

uint64_t prng_next(struct prng *rng)
{
	rng->state += WEYL_INCREMENT;
	return mix64(rng->state);
}

uint64_t prng_below(struct prng *rng, uint64_t bound)
{
	uint64_t skew, r;

	if (bound == 0)
		return 0;
	/* Reject the 2^64 mod bound lowest values so that every residue is equally likely. */
	skew = (0 - bound) % bound;
	do
		r = prng_next(rng);
	while (r < skew);
	return r % bound;
}

bool prng_percent(struct prng *rng, unsigned percent)
{
	return prng_below(rng, 100) < percent;
}

unsigned prng_bit_of(struct prng *rng, uint64_t mask)
{
	uint64_t pick;
	unsigned count = 0;

	if (!mask)
		return 64;
	/* Counted by hand: the freestanding build has no popcount helper from libgcc. */
	for (uint64_t m = mask; m; m &= m - 1)
		count++;
	pick = prng_below(rng, count);
	for (unsigned bit = 0; bit < 64; bit++)
		if ((mask & BIT(bit)) && pick-- == 0)
			return bit;
	return 64;
}
