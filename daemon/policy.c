/*
 * policy.c - see policy.h.
 */
#include <string.h>

#include "policy.h"
#include "sgdb.h"
#include "snapshot.h"

void
policy_decide(const struct snapshot *snap, const struct request *req,
    struct decision *d)
{
	struct sgdb_match m;

	memset(d, 0, sizeof(*d));
	d->action = ACTION_ALLOW;
	if (!sgdb_lookup(snap->db, req->name, req->name_len, &m))
		return;
	d->matched = m.categories;
	d->blocked = m.categories & snap->block_mask;
	if (m.confidential != 0) {
		d->confidential = true;
		d->list = m.list;
		memcpy(d->hash, m.hash, sizeof(d->hash));
	} else if (m.rule_len != 0) {
		d->rule = req->name + req->name_len - m.rule_len;
		d->rule_len = m.rule_len;
	}
	if (d->blocked != 0)
		d->action = ACTION_BLOCK;
}
