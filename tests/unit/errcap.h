/*
 * errcap.h - what the code under test logs (log.h writes to stderr),
 * caught for a test to read.  Process-wide: the threads' lines too.
 */
#ifndef SG_ERRCAP_H
#define SG_ERRCAP_H

#include <stddef.h>

/* From now on, stderr goes to a file of the test's. */
void	errcap_start(void);
/* stderr back; what was written meanwhile, NUL-ended, at most len - 1
 * bytes of it, in buf. */
void	errcap_end(char *buf, size_t len);

#endif
