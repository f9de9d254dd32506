/* What the libFuzzer targets share: an invariant that aborts with its text when it fails. */
#ifndef HVT_FUZZ_H
#define HVT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                               \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                 \
			abort();                                                  \
		}                                                                 \
	} while (0)

#endif
