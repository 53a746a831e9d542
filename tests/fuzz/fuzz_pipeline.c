/*
 * libFuzzer target: a whole packet through the pipeline, as the daemon runs
 * it (packet, DNS parsing, policy, answer and reset building), against a
 * small snapshot.  Every input must get a verdict and forged packets must
 * parse back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "domainset.h"
#include "pipeline.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct snapshot *
make_snapshot(void)
{
	static const char conf[] =
	    "dns = { block_response = \"address\"; "
	    "block_page = [ \"192.0.2.1\", \"2001:db8::1\" ]; };\n"
	    "lists = ( { category = \"adult\"; files = [ \"x\" ]; } );\n"
	    "block = [ \"adult\" ];\n";
	static const char *const names[] = { "example.com", "blocked.test",
	    "a.b.example.net" };
	struct domainset_builder *b;
	struct snapshot *s;
	char err[CONFIG_ERR_LEN];
	size_t i;

	s = calloc(1, sizeof(*s));
	s->cfg = config_load_string("fuzz", conf, err, sizeof(err));
	b = domainset_builder_new();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (domainset_builder_add(b, names[i], strlen(names[i]), 0) < 0)
			abort();
	s->set = domainset_builder_finish(b);
	if (s->cfg == NULL || s->set == NULL)
		abort();
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snapshot *snap;
	static struct pipeline_result r;
	struct pipeline_meta meta = { 0 };
	struct packet p;
	size_t i;

	if (snap == NULL)
		snap = make_snapshot();
	pipeline_run(snap, &meta, data, size, &r);
	if (r.outcome >= PL_OUTCOME_COUNT)
		__builtin_trap();
	for (i = 0; i < r.nout; i++)
		if (packet_parse(&p, r.out[i].pkt, r.out[i].len) != 0)
			__builtin_trap();
	/* A blocked name is always in the set. */
	if (r.outcome == PL_DROP_BLOCKED &&
	    !domainset_lookup(snap->set, r.req.name, r.req.name_len, NULL))
		__builtin_trap();
	return 0;
}
