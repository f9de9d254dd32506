/*
 * libFuzzer target for x86/run's plan files (scripts/plan.c): a cache file
 * damaged in any way must be refused or read, never crash; what is read must
 * format back to a text that reads the same (parse, format, parse, format is
 * a fixed point), as a request and as a plan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "fuzz.h"

static void round_trip(const uint8_t *data, size_t size, int request)
{
	struct plan p, q;
	char err[256];
	char *a, *b;

	if (!plan_parse((const char *)data, size, &p, request, err, sizeof(err))) {
		CHECK(err[0] != '\0');
		return;
	}
	a = plan_format(&p);
	CHECK(a);
	/* A request formats with no key line unless it had none to begin with. */
	CHECK(plan_parse(a, strlen(a), &q, request, err, sizeof(err)));
	b = plan_format(&q);
	CHECK(b && !strcmp(a, b));
	CHECK(q.args.v[q.args.n] == NULL && q.verdict.v[q.verdict.n] == NULL);
	free(a);
	free(b);
	plan_free(&p);
	plan_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size, 1);
	round_trip(data, size, 0);
	return 0;
}
