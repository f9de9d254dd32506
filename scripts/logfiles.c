/* The runner's log directory: see logfiles.h. */
#include "logfiles.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool log_link(const char *link, const char *target)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", link, (long)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "%s: name too long\n", link);
		return false;
	}
	unlink(tmp);
	if (symlink(target, tmp) || rename(tmp, link)) {
		fprintf(stderr, "cannot link %s to %s: %s\n", link, target, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

bool log_new_run_dir(const char *root, char *out, size_t size)
{
	char logs[PATH_MAX], path[PATH_MAX], stamp[32], latest[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;

	if (snprintf(logs, sizeof(logs), "%s/logs", root) >= (int)sizeof(logs)) {
		fprintf(stderr, "%s: name too long\n", root);
		return false;
	}
	if (mkdir(logs, 0777) && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", logs, strerror(errno));
		return false;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int n = 0; n < 100; n++) {
		int len;

		if (n)
			len = snprintf(out, size, "logs/run-%s-%ld.%d", stamp, (long)getpid(), n);
		else
			len = snprintf(out, size, "logs/run-%s-%ld", stamp, (long)getpid());
		if (len < 0 || (size_t)len >= size ||
		    snprintf(path, sizeof(path), "%s/%s", root, out) >= (int)sizeof(path)) {
			fprintf(stderr, "%s: name too long\n", root);
			return false;
		}
		if (mkdir(path, 0777) == 0) {
			if (snprintf(latest, sizeof(latest), "%s/latest", logs) >= (int)sizeof(latest))
				return false;
			return log_link(latest, out + strlen("logs/"));
		}
		if (errno != EEXIST) {
			fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
			return false;
		}
	}
	fprintf(stderr, "cannot create a log directory under logs/\n");
	return false;
}
