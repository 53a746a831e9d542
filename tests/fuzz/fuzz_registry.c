/*
 * fuzz_registry.c - libFuzzer target for update_registry_load(), the
 * feed registry (blocklists/feeds.conf) that `safegate-lists update`
 * trusts for URLs and limits.
 *
 * Any bytes either load or give a message.  A registry that loads keeps
 * the promises of update.h: every feed has a valid name, a URL, limits in
 * range, and can be found by its name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "update.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	const struct update_feed *f;
	struct update_registry *reg;
	char path[64], err[CONFIG_ERR_LEN];
	size_t i;

	/* The loader reads a file: one memfd, rewritten for every input. */
	if (fd == -1 && (fd = memfd_create("registry", 0)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	if ((reg = update_registry_load(path, err, sizeof(err))) == NULL) {
		if (err[0] == '\0')
			__builtin_trap();	/* refused without a word */
		return 0;
	}
	for (i = 0; i < update_registry_count(reg); i++) {
		f = update_registry_feed(reg, i);
		if (f == NULL || !config_valid_name(f->name) || f->url == NULL ||
		    f->url[0] == '\0' || f->min_bytes > f->max_bytes ||
		    f->max_bytes > UPDATE_MAX_BYTES ||
		    update_registry_find(reg, f->name) != f)
			__builtin_trap();
	}
	if (update_registry_feed(reg, i) != NULL)
		__builtin_trap();
	update_registry_free(reg);
	return 0;
}
