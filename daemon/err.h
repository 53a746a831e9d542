/*
 * err.h - the project's one error convention.
 *
 * Functions that can fail return 0 on success or a negative code: either a
 * negated errno value (-ENOMEM, -EINVAL, ...) or one of the project's own
 * codes below, which sit far above any errno value so the two never clash.
 * Constructors return NULL and set errno; predicates return bool.
 */
#ifndef SG_ERR_H
#define SG_ERR_H

#define SG_WUR __attribute__((warn_unused_result))

enum sg_err {
	SG_OK = 0,
	SG_EMALFORMED = -4096,	/* bytes that break the format's rules */
	SG_ETRUNC = -4097,	/* the input ends before the format says it does */
	SG_ELIMIT = -4098,	/* a hard limit was reached (labels, pointers, ...) */
	SG_EUNSUPP = -4099,	/* well-formed, but not something we handle */
	SG_ECONFIG = -4100,	/* the configuration is invalid */
	SG_ENOTFOUND = -4101,	/* looked up, not there */
};

/* A static, human-readable message for a negative code (errno or sg_err). */
const char *sg_strerror(int err);

#endif
