/*
 * policy.c - see policy.h.
 */
#include <string.h>

#include "policy.h"
#include "snapshot.h"

void
policy_decide(const struct snapshot *snap, const struct request *req,
    struct decision *d)
{
	struct domainset_match m;

	memset(d, 0, sizeof(*d));
	d->action = ACTION_ALLOW;
	if (!domainset_lookup(snap->set, req->name, req->name_len, &m))
		return;
	d->matched = m.categories;
	d->blocked = m.categories & snap->cfg->block_mask;
	d->rule = m.rule;
	d->rule_len = m.rule_len;
	if (d->blocked != 0)
		d->action = ACTION_BLOCK;
}
