/*
 * hvt-run: boot one test for x86/run and print its verdict (docs/runner.md).
 *
 *   hvt-run --plans DIR -- X86RUN-ARG...
 *       run the plan that DIR holds for these arguments (and this working
 *       directory and environment), if it still holds; else exit 75 at
 *       once, having done nothing
 *   hvt-run --plans DIR --record REQUEST -- X86RUN-ARG...
 *       make REQUEST (what x86/run decided, see plan.h) the plan for these
 *       arguments, then run it
 *
 * Running a plan: a fresh nonce and run directory (as the planned run's,
 * everywhere they appear), the .cmd file, the console log and its link in
 * logs/, the header line on stderr; the hypervisor as a job of its own
 * (job.h) with the console followed to stdout; then hvt-verdict on the log.
 * A Ctrl-C stops the hypervisor and keeps its console.
 *
 * Exit status: the verdict's (0 PASS, 1 FAIL, 77 SKIP, 99 ERROR), 130 when
 * interrupted, 75 no plan, 2 usage error.
 */
#define _GNU_SOURCE
#include "job.h"
#include "logfiles.h"
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_NO_PLAN 75
#define EXIT_USAGE 2
#define EXIT_ERROR 99
#define EXIT_INTERRUPTED 130

extern char **environ;

static int usage(void)
{
	fputs("Usage: hvt-run --plans DIR [--record REQUEST] -- X86RUN-ARG...\n", stderr);
	return EXIT_USAGE;
}

static char *read_file(const char *path, size_t *len)
{
	char *s = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= PLAN_MAX_BYTES &&
	    (s = malloc((size_t)st.st_size + 1))) {
		n = read(fd, s, (size_t)st.st_size + 1);
		if (n != st.st_size) {
			free(s);
			s = NULL;
		} else {
			*len = (size_t)n;
			s[n] = '\0';
		}
	}
	close(fd);
	return s;
}

/* Write TEXT to PATH whole: a temporary beside it, then a rename. */
static bool write_whole(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return false;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return false;
	ok = write(fd, text, len) == (ssize_t)len;
	ok = !close(fd) && ok && !rename(tmp, path);
	if (!ok)
		unlink(tmp);
	return ok;
}

static bool replace_in(char **s, const char *old, const char *new)
{
	char *r = str_replace_all(*s, old, new);

	if (!r)
		return false;
	free(*s);
	*s = r;
	return true;
}

/* This run's nonce and run directory in place of the planned run's. */
static bool renew(struct plan *p)
{
	unsigned char rnd[8];
	char nonce[17], rundir[PATH_MAX];
	char **scalars[] = { &p->header, &p->cmd };
	struct strv *lists[] = { &p->args, &p->verdict };

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		perror("x86/run: getrandom");
		return false;
	}
	for (int i = 0; i < 8; i++)
		snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
	if (!log_new_run_dir(p->root, rundir, sizeof(rundir)))
		return false;
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		if (!replace_in(scalars[i], p->nonce, nonce) || !replace_in(scalars[i], p->rundir, rundir))
			return false;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (!replace_in(&lists[l]->v[i], p->nonce, nonce) ||
			    !replace_in(&lists[l]->v[i], p->rundir, rundir))
				return false;
	free(p->nonce);
	free(p->rundir);
	p->nonce = strdup(nonce);
	p->rundir = strdup(rundir);
	return p->nonce && p->rundir;
}

static int verdict(const struct plan *p, const char *log, int rc, double secs)
{
	char code[16], duration[32];
	char **argv = calloc(p->verdict.n + 10, sizeof(*argv));
	size_t n = 0;
	pid_t pid;
	int status;

	if (!argv)
		return EXIT_ERROR;
	snprintf(code, sizeof(code), "%d", rc);
	snprintf(duration, sizeof(duration), "%.2f", secs);
	for (size_t i = 0; i < p->verdict.n; i++)
		argv[n++] = p->verdict.v[i];
	argv[n++] = "--nonce";
	argv[n++] = p->nonce;
	argv[n++] = "--exit-code";
	argv[n++] = code;
	argv[n++] = "--duration";
	argv[n++] = duration;
	argv[n++] = "--cmdline";
	argv[n++] = p->cmd;
	argv[n++] = (char *)log;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, "x86/run: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(EXIT_ERROR);
	}
	free(argv);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return EXIT_ERROR;
	if (!WIFEXITED(status))
		return EXIT_ERROR;
	switch (WEXITSTATUS(status)) {
	case 0: case 1: case 77: case 99:
		return WEXITSTATUS(status);
	default:
		return EXIT_ERROR;
	}
}

static int run(struct plan *p)
{
	char log[PATH_MAX], cmdfile[PATH_MAX], link[PATH_MAX], target[PATH_MAX], *cmdtext;
	struct job job = { .seconds = p->seconds, .output = -1 };
	struct timespec t0, t1;
	const char *rel;
	int rc, fd;

	if (snprintf(log, sizeof(log), "%s/%s/%s", p->root, p->rundir, p->log) >= (int)sizeof(log) ||
	    snprintf(cmdfile, sizeof(cmdfile), "%.*s.cmd", (int)strlen(log) - 4, log) >= (int)sizeof(cmdfile) ||
	    snprintf(link, sizeof(link), "%s/logs/%s", p->root, p->log) >= (int)sizeof(link) ||
	    snprintf(target, sizeof(target), "%s/%s", p->rundir + strlen("logs/"), p->log) >= (int)sizeof(target)) {
		fprintf(stderr, "x86/run: log path too long\n");
		return EXIT_ERROR;
	}
	rel = log + strlen(p->root) + 1;
	if (asprintf(&cmdtext, "%s\n", p->cmd) < 0 || !write_whole(cmdfile, cmdtext)) {
		fprintf(stderr, "x86/run: cannot write %s\n", cmdfile);
		return EXIT_ERROR;
	}
	free(cmdtext);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 || close(fd)) {
		fprintf(stderr, "x86/run: cannot create %s: %s\n", log, strerror(errno));
		return EXIT_ERROR;
	}
	if (!log_link(link, target))
		return EXIT_ERROR;
	fprintf(stderr, "%s\n", p->header);

	job_init(&job);
	job.follow = log;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!job_start(&job, p->args.v, true)) {
		fprintf(stderr, "x86/run: cannot start %s: %s\n", p->args.v[0], strerror(errno));
		return EXIT_ERROR;
	}
	rc = job_wait(&job);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (job.signal) {
		fprintf(stderr, "x86/run: interrupted; console kept in %s\n", rel);
		return EXIT_INTERRUPTED;
	}
	rc = verdict(p, log, rc, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fprintf(stderr, "log: %s\n", rel);
	return rc;
}

int main(int argc, char **argv)
{
	const char *plans = NULL, *record = NULL;
	char cwd[PATH_MAX], path[PATH_MAX], err[256], *text;
	struct plan p;
	uint64_t key;
	size_t len;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--plans") && i + 1 < argc)
			plans = argv[++i];
		else if (!strcmp(argv[i], "--record") && i + 1 < argc)
			record = argv[++i];
		else
			return usage();
	}
	if (!plans || i == argc)
		return usage();
	i++;
	if (!getcwd(cwd, sizeof(cwd)))
		return record ? usage() : EXIT_NO_PLAN;
	key = plan_key(argv + i, argc - i, cwd, environ);
	if (snprintf(path, sizeof(path), "%s/%016llx", plans, (unsigned long long)key) >= (int)sizeof(path))
		return record ? usage() : EXIT_NO_PLAN;

	if (!record) {
		text = read_file(path, &len);
		if (!text)
			return EXIT_NO_PLAN;
		if (!plan_parse(text, len, &p, false, err, sizeof(err)) || p.key != key ||
		    !plan_holds(&p, err, sizeof(err))) {
			free(text);
			return EXIT_NO_PLAN;
		}
		free(text);
		if (!renew(&p))
			return EXIT_ERROR;
		return run(&p);
	}

	text = read_file(record, &len);
	if (!text) {
		fprintf(stderr, "x86/run: cannot read %s\n", record);
		return EXIT_ERROR;
	}
	unlink(record);
	if (!plan_parse(text, len, &p, true, err, sizeof(err)) || !plan_stamp(&p, err, sizeof(err))) {
		fprintf(stderr, "x86/run: bad plan request %s: %s\n", record, err);
		free(text);
		return EXIT_ERROR;
	}
	free(text);
	p.key = key;
	/* A plan that cannot be kept only costs the next run its time. */
	if ((mkdir(plans, 0777) == 0 || errno == EEXIST) && (text = plan_format(&p))) {
		write_whole(path, text);
		free(text);
	}
	return run(&p);
}
