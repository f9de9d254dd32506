/* Hypervisor jobs: see job.h. */
#define _GNU_SOURCE
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
#define TIMEOUT_GRACE_NS (5 * NS_PER_S)	/* a timed-out command's time to go */
#define SIGNAL_GRACE_NS (2 * NS_PER_S)	/* an interrupted one's (Bochs ignores SIGTERM) */
/* How often a followed console is read: fast enough to look live. */
#define FOLLOW_PERIOD_NS (5 * 1000000LL)

static const int waited_signals[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void waited_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(waited_signals) / sizeof(waited_signals[0]); i++)
		sigaddset(set, waited_signals[i]);
}

void job_init(struct job *job)
{
	sigset_t set;

	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout ends the copy, not the job */
	waited_set(&set);
	sigprocmask(SIG_BLOCK, &set, &job->old_mask);
	job->pid = 0;
	job->group = 0;
	job->signal = 0;
}

bool job_start(struct job *job, char *const argv[], bool own_session)
{
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0) {
		if (own_session)
			setsid();
		if (job->output >= 0 && (dup2(job->output, STDOUT_FILENO) < 0 ||
					 dup2(job->output, STDERR_FILENO) < 0))
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &job->old_mask, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	job->pid = pid;
	if (own_session)
		job->group = pid;
	else if (getpgrp() == getpid())
		job->group = getpid();
	return true;
}

/* The console being followed: copied to stdout from where it was left. */
struct follow {
	const char *path;
	int fd;
	bool broken;	/* stdout went away */
	char last;	/* the last byte copied */
};

static void follow_copy(struct follow *f)
{
	char buf[16384];
	ssize_t n;

	if (!f->path || f->broken)
		return;
	if (f->fd < 0) {
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0)
			return;	/* not there yet */
	}
	while ((n = read(f->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				f->broken = true;
				return;
			}
			off += w;
		}
		f->last = buf[n - 1];
	}
}

/* The copy ends at a line boundary: what the runner prints next starts a line. */
static void follow_end(struct follow *f)
{
	follow_copy(f);
	if (f->path && !f->broken && f->last && f->last != '\n')
		(void)!write(STDOUT_FILENO, "\n", 1);
	if (f->fd >= 0)
		close(f->fd);
}

/* Pass a signal on: to the command's whole group when it has one of its own. */
static void job_signal(const struct job *job, int sig)
{
	if (job->group == job->pid)
		kill(-job->group, sig);
	else
		kill(job->pid, sig);
}

int job_wait(struct job *job)
{
	struct follow follow = { .path = job->follow, .fd = -1 };
	int64_t deadline = job->seconds ? now_ns() + job->seconds * NS_PER_S : 0, kill_at = 0;
	bool timed_out = false;
	int status = 0;
	struct rusage ru;
	sigset_t set;

	waited_set(&set);
	for (;;) {
		int64_t t = now_ns(), wait_ns = follow.path ? FOLLOW_PERIOD_NS : 3600 * NS_PER_S;
		struct timespec ts;
		siginfo_t info;
		int sig;

		if (deadline && !timed_out && t >= deadline) {
			timed_out = true;
			job_signal(job, SIGTERM);
			kill_at = t + TIMEOUT_GRACE_NS;
		}
		if (kill_at && t >= kill_at) {
			job_signal(job, SIGKILL);
			kill_at = 0;
		}
		if (deadline && !timed_out && deadline - t < wait_ns)
			wait_ns = deadline - t;
		if (kill_at && kill_at - t < wait_ns)
			wait_ns = kill_at - t;
		ts.tv_sec = wait_ns / NS_PER_S;
		ts.tv_nsec = wait_ns % NS_PER_S;

		sig = sigtimedwait(&set, &info, &ts);
		follow_copy(&follow);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			if (!job->signal) {
				job->signal = sig;
				job_signal(job, SIGTERM);
				if (!kill_at || kill_at > now_ns() + SIGNAL_GRACE_NS)
					kill_at = now_ns() + SIGNAL_GRACE_NS;
			} else {
				job_signal(job, SIGKILL);	/* a second one: at once */
			}
		}
		if (wait4(job->pid, &status, WNOHANG, &ru) == job->pid)
			break;
	}
	follow_end(&follow);
	job->maxrss_kib = ru.ru_maxrss;
	job->user_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	job->sys_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;

	/*
	 * What the command left in the group goes with it: SIGTERM, then
	 * SIGKILL for what is still there 2 s later (Bochs ignores SIGTERM).
	 */
	if (job->group == job->pid) {
		struct timespec tick = { 0, 100 * 1000000L };

		kill(-job->group, SIGTERM);
		for (int i = 0; i < 20 && kill(-job->group, 0) == 0; i++)
			nanosleep(&tick, NULL);
		kill(-job->group, SIGKILL);
	} else if (job->group) {
		signal(SIGTERM, SIG_IGN);
		kill(0, SIGTERM);
	}
	if (timed_out)
		return JOB_EXIT_TIMEOUT;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
