/*
 * atomicfile.h - replacing a file whole, or not at all.
 *
 * The new bytes go into a temporary file in path's own folder (so that
 * rename(2) never crosses file systems), which gets its mode, is synced
 * and is renamed over path; the folder is then synced so that the rename
 * itself survives a crash.  A reader of path sees the old file or the
 * whole new one, never a part, and after a crash path holds one or the
 * other.  Used for the list database (sgdb_write()), the overrides' state
 * file (overrides_save()) and the downloaded feeds (update_feed()).
 *
 * Errors are 0 or -errno, as in err.h.  The folder's sync comes after the
 * rename and only hastens what the kernel does anyway, so its failure is
 * not reported: the file is in place by then.
 */
#ifndef SG_ATOMICFILE_H
#define SG_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Replaces path with the len bytes at buf, mode exactly `mode` (set with
 * fchmod(), so the umask plays no part; the temporary file is 0600 until
 * then).  The temporary file is path + ".XXXXXX" (mkostemp()).  Returns 0,
 * or -errno (-ENAMETOOLONG when the temporary name does not fit PATH_MAX);
 * on failure path is unchanged and the temporary file removed.
 */
int	atomicfile_write(const char *path, const void *buf, size_t len,
	    mode_t mode) SG_WUR;

/*
 * Puts tmp, a file the caller has written in path's folder, in place of
 * path: mode `mode` (fchmod()), fsync, rename over path, sync of the
 * folder.  Returns 0, or -errno; on failure path is unchanged and tmp is
 * left where it is, for the caller to remove.
 */
int	atomicfile_replace(const char *tmp, const char *path,
	    mode_t mode) SG_WUR;

/* write() until all len bytes are out (EINTR retried).  0 or -errno
 * (-EIO for a write of nothing). */
int	atomicfile_write_all(int fd, const void *buf, size_t len) SG_WUR;

/* Makes the folder that holds path, mode `mode` (as the umask allows),
 * if it is missing; its own parent must be there.  0 (there already, or
 * made), or -errno. */
int	atomicfile_make_dir(const char *path, mode_t mode) SG_WUR;

/* Syncs the folder that holds path, so that a rename or a new file in it
 * is durable; errors are ignored (not every file system syncs folders). */
void	atomicfile_sync_dir(const char *path);

#endif
