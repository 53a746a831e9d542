#include <string.h>

#include "err.h"

const char *
sg_strerror(int err)
{
	switch (err) {
	case SG_OK:
		return "success";
	case SG_EMALFORMED:
		return "malformed input";
	case SG_ETRUNC:
		return "truncated input";
	case SG_ELIMIT:
		return "limit exceeded";
	case SG_EUNSUPP:
		return "not supported";
	case SG_ECONFIG:
		return "invalid configuration";
	case SG_ENOTFOUND:
		return "not found";
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
