/*
 * One hypervisor run as a job of the runner: its own session and process
 * group (a Ctrl-C on the terminal reaches only the runner), a timeout, the
 * console followed to stdout, and signals passed on.  Used by hvt-job (the
 * jobs of run_tests.sh, scripts/hv.sh hv_spawn) and hvt-run (x86/run).
 */
#ifndef HVT_JOB_H
#define HVT_JOB_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#define JOB_EXIT_TIMEOUT 124 /* as timeout(1) */

struct job {
	/* Set by the caller. */
	long seconds;		/* SIGTERM after this long, SIGKILL 5 s later; 0: never */
	const char *follow;	/* copy this file to stdout as it grows; NULL: none */
	int output;		/* the command's stdout and stderr; -1: the caller's */
	/* Set by the job functions. */
	pid_t pid;		/* the command */
	pid_t group;		/* the process group to end when the command ends; 0: none */
	int signal;		/* the first SIGINT, SIGTERM or SIGHUP that arrived; 0: none */
	long maxrss_kib;	/* the peak resident size of the command and what it waited for */
	double user_s, sys_s;	/* their CPU time */
	sigset_t old_mask;
};

/*
 * Block the signals the job waits for; call before anything else can send
 * them.  Resets SIGINT and SIGQUIT, which a shell ignores for background
 * commands, so that they can be waited for.
 */
void job_init(struct job *job);

/*
 * Fork and exec ARGV.  own_session: the child becomes a session and group of
 * its own (hvt-run); else the caller already is one (hvt-job) and the child
 * stays in it.  Returns false when fork failed (errno set).
 */
bool job_start(struct job *job, char *const argv[], bool own_session);

/*
 * Wait for the command: the timeout, the followed console, and signals
 * (passed on to the command; a command still there 2 s after one gets
 * SIGKILL).  Ends what is left in the group.  Returns the command's exit
 * status, 128+N for a signal N, JOB_EXIT_TIMEOUT when it timed out.
 */
int job_wait(struct job *job);

#endif
