/*
 * hvt-job: run one hypervisor as a job of the runner (scripts/hv.sh hv_spawn).
 *
 *   hvt-job [--follow FILE] [--output FILE] [--link LINK TARGET]... [--rusage FILE]
 *           SECONDS COMMAND [ARG]...
 *
 * The job is a session and process group of its own, so that a Ctrl-C on the
 * terminal reaches only the runner, which stops the job by signalling the
 * group.  COMMAND runs as the job's child, with the job's stdin, stdout and
 * stderr.  After SECONDS (0: never) COMMAND gets SIGTERM, and SIGKILL 5 s
 * later if it is still there.  When COMMAND ends, whatever it left in the
 * group gets SIGTERM too, so that no stray process keeps a log or a pipe open.
 *
 * --follow FILE copies FILE to stdout as it grows (the hypervisor writes the
 * guest's console there), until COMMAND has ended and FILE is read to its end.
 * --link LINK TARGET makes LINK a symbolic link to TARGET before COMMAND
 * starts, replacing LINK whole.  --output FILE is COMMAND's stdout and stderr,
 * removed at the end when COMMAND said nothing.  --rusage FILE writes the peak resident size
 * and CPU time of COMMAND (and what it waited for) into FILE when it ends:
 * "maxrss_kib=N user_s=S sys_s=S" (make bench).
 *
 *   hvt-job --new-run-dir ROOT
 *
 * makes a fresh ROOT/logs/run-* directory, points ROOT/logs/latest at it and
 * prints its name ("logs/run-..."): the one way the runners name a run.
 *
 * Exit status: COMMAND's, 128+N when a signal N ended it, 124 when it timed
 * out, 125 for a usage error, 126/127 when COMMAND could not be run.
 *
 * One process in place of setsid(1), a shell and timeout(1): every process
 * counts on a null test (make bench).
 */
#include "job.h"
#include "logfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 125
#define MAX_SECONDS (24 * 60 * 60)
#define MAX_LINKS 8

static void usage(FILE *f)
{
	fputs("Usage: hvt-job [--follow FILE] [--output FILE] [--link LINK TARGET]... [--rusage FILE]\n"
	      "               SECONDS COMMAND [ARG]...\n"
	      "       hvt-job --new-run-dir ROOT\n"
	      "\n"
	      "Run COMMAND in a session of its own; SIGTERM after SECONDS (0: no limit),\n"
	      "SIGKILL 5 s later. --follow copies FILE to stdout as it grows; --link\n"
	      "replaces LINK by a symbolic link to TARGET first; --output is COMMAND's stdout\n"
	      "and stderr, removed when empty; --rusage writes the peak\n"
	      "resident size and CPU time into FILE.\n"
	      "\n"
	      "Exit status: COMMAND's, 128+N for signal N, 124 timed out, 125 usage,\n"
	      "126/127 COMMAND could not be run.\n", f);
}

static bool parse_seconds(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > MAX_SECONDS)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	struct job job = { .output = -1 };
	struct stat st;
	int argi = 1, links[MAX_LINKS], nlinks = 0, rc;
	const char *rusage_path = NULL, *output_path = NULL;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--new-run-dir")) {
		char dir[4096];

		if (!log_new_run_dir(argv[2], dir, sizeof(dir)))
			return 1;
		return puts(dir) < 0 || fflush(stdout) ? 1 : 0;
	}
	for (;;) {
		if (argi + 1 < argc && !strcmp(argv[argi], "--follow")) {
			job.follow = argv[argi + 1];
			argi += 2;
		} else if (argi + 1 < argc && !strcmp(argv[argi], "--output")) {
			output_path = argv[argi + 1];
			argi += 2;
		} else if (argi + 1 < argc && !strcmp(argv[argi], "--rusage")) {
			rusage_path = argv[argi + 1];
			argi += 2;
		} else if (argi + 2 < argc && !strcmp(argv[argi], "--link")) {
			if (nlinks == MAX_LINKS) {
				fprintf(stderr, "hvt-job: at most %d --link\n", MAX_LINKS);
				return EXIT_USAGE;
			}
			links[nlinks++] = argi + 1;
			argi += 3;
		} else {
			break;
		}
	}
	if (argc - argi < 2 || !parse_seconds(argv[argi], &job.seconds)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argi++;
	for (int i = 0; i < nlinks; i++)
		if (!log_link(argv[links[i]], argv[links[i] + 1]))
			return 126;
	if (output_path) {
		job.output = open(output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (job.output < 0) {
			fprintf(stderr, "hvt-job: cannot write %s: %s\n", output_path, strerror(errno));
			return 126;
		}
	}

	/* Already a group leader (an interactive shell's job): keep that group. */
	(void)setsid();
	job_init(&job);
	if (!job_start(&job, argv + argi, false)) {
		perror("hvt-job: fork");
		return 126;
	}
	rc = job_wait(&job);
	if (output_path && fstat(job.output, &st) == 0 && st.st_size == 0)
		unlink(output_path);
	if (rusage_path) {
		FILE *f = fopen(rusage_path, "w");

		if (!f || fprintf(f, "maxrss_kib=%ld user_s=%.2f sys_s=%.2f\n", job.maxrss_kib,
				  job.user_s, job.sys_s) < 0 || fclose(f)) {
			fprintf(stderr, "hvt-job: cannot write %s\n", rusage_path);
			return 126;
		}
	}
	return rc;
}
