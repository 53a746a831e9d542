/*
 * atomicfile.c - see atomicfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

void
atomicfile_sync_dir(const char *path)
{
	char dir[PATH_MAX], *slash;
	int dfd;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
}

/*
 * fd, open on tmp, gets its mode, is synced and closed (in any case), and
 * tmp is renamed over path.  0 or -errno.
 */
static int
commit(int fd, const char *tmp, const char *path, mode_t mode)
{
	int rc = 0;

	if (fchmod(fd, mode) == -1)
		rc = -errno;
	if (rc == 0 && fsync(fd) == -1)
		rc = -errno;
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -errno;
	if (rc == 0)
		atomicfile_sync_dir(path);
	return rc;
}

int
atomicfile_write_all(int fd, const void *buf, size_t left)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (left > 0) {
		if ((n = write(fd, p, left)) == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

int
atomicfile_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -errno;
	if ((rc = atomicfile_write_all(fd, buf, len)) != 0)
		close(fd);
	else
		rc = commit(fd, tmp, path, mode);
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

int
atomicfile_replace(const char *tmp, const char *path, mode_t mode)
{
	int fd;

	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	return commit(fd, tmp, path, mode);
}

int
atomicfile_make_dir(const char *path, mode_t mode)
{
	char dir[PATH_MAX], *slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;	/* the working folder, or / */
	*slash = '\0';
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
