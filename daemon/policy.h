/*
 * policy.h - one decision per request, whatever carried the name.
 *
 * A request is a name seen on the wire (a DNS question now; TLS SNI, HTTP
 * Host and QUIC SNI later), with who asked and when.  The decision says
 * whether to allow it, and why: the categories matched, those that blocked
 * it, and the listed rule.  This slice applies one rule to every device:
 * the config's `block` categories.  Devices, profiles and schedules grow
 * here without changing the callers.
 */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

struct snapshot;

enum request_kind { REQ_DNS, REQ_TLS, REQ_HTTP, REQ_QUIC };

struct request {
	enum request_kind kind;
	const char	*name;		/* normalised: lower case, no dot */
	size_t		 name_len;
	uint16_t	 qtype;		/* DNS only */
	struct sg_addr	 client;
	bool		 has_mac;
	uint8_t		 mac[6];
	time_t		 time;
};

enum action { ACTION_ALLOW, ACTION_BLOCK };

struct decision {
	enum action	 action;
	uint64_t	 matched;	/* every category the name is in */
	uint64_t	 blocked;	/* those that block it for this client */
	const char	*rule;		/* the most specific listed suffix;
					   points into req->name; NULL when
					   confidential */
	size_t		 rule_len;
	/*
	 * The name matched a confidential category (blocked here or not):
	 * it must never be written anywhere.  The most specific confidential
	 * entry is told by its list and hash instead.
	 */
	bool		 confidential;
	unsigned	 list;
	uint8_t		 hash[32];
};

void	policy_decide(const struct snapshot *, const struct request *,
	    struct decision *);

#endif
