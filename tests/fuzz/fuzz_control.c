/*
 * fuzz_control.c - a control-socket request as the daemon reads it: at
 * most CONTROL_REQ_MAX bytes, no NUL (control.c refuses both before
 * this), split into words in place by control_split(), the first word
 * then asked whether it changes state.  Every word is non-empty, holds
 * no blank, lies inside the request, and there are at most `max`; a
 * request of blanks only has none.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char req[CONTROL_REQ_MAX + 1], *argv[CONTROL_ARGS_MAX];
	size_t i;
	int argc, k, blanks = 1;

	if (size > CONTROL_REQ_MAX || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(req, data, size);
	req[size] = '\0';
	for (i = 0; i < size; i++)
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n')
			blanks = 0;
	argc = control_split(req, argv, CONTROL_ARGS_MAX);
	assert(argc >= 0 && argc <= CONTROL_ARGS_MAX);
	assert((argc == 0) == blanks);
	for (k = 0; k < argc; k++) {
		assert(argv[k] >= req && argv[k] < req + size);
		assert(argv[k][0] != '\0');
		assert(strpbrk(argv[k], " \t\n") == NULL);
		if (k > 0)
			assert(argv[k] > argv[k - 1]);
	}
	if (argc > 0)
		(void)control_changes_state(argv[0]);
	return 0;
}
