/* errcap.c - see errcap.h. */
#include <stdio.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "errcap.h"

static FILE *cap;
static int saved = -1;

void
errcap_start(void)
{
	fflush(stderr);
	cr_assert_not_null(cap = tmpfile());
	cr_assert_geq(saved = dup(STDERR_FILENO), 0);
	cr_assert_eq(dup2(fileno(cap), STDERR_FILENO), STDERR_FILENO);
}

void
errcap_end(char *buf, size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	saved = -1;
	rewind(cap);
	n = fread(buf, 1, len - 1, cap);
	buf[n] = '\0';
	fclose(cap);
	cap = NULL;
}
