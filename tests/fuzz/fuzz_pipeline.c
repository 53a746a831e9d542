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
#include "sgdb.h"
#include "pagelink.h"
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
	struct sgdb_builder *b;
	struct config *cfg;
	struct snapshot *s;
	struct sgdb *db;
	char err[CONFIG_ERR_LEN];
	void *image;
	size_t i, len;
	int c, l;

	if ((cfg = config_load_string("fuzz", conf, err, sizeof(err))) ==
	    NULL || (b = sgdb_builder_new()) == NULL)
		abort();
	if ((c = sgdb_builder_category(b, "adult", false)) < 0 ||
	    (l = sgdb_builder_list(b, (unsigned)c, "x")) < 0)
		abort();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sgdb_builder_add(b, (unsigned)l, names[i],
		    strlen(names[i]), false) < 0)
			abort();
	if (sgdb_builder_finish(b, &image, &len, NULL) < 0 ||
	    sgdb_open_image(image, len, &db, NULL, 0) < 0)
		abort();
	free(image);
	sgdb_builder_free(b);
	if ((s = snapshot_new(cfg, db, err, sizeof(err))) == NULL)
		abort();
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snapshot *snap;
	static struct flow_table *flows;
	static struct pipeline_result r;
	static time_t clock;
	static struct pagelink link;
	struct pipeline_meta meta = { 0 };
	struct packet p;
	size_t i;

	if (snap == NULL) {
		snap = make_snapshot();
		/* Kept across inputs, small, with time passing: pieces of a
		 * ClientHello meet later inputs, and slots expire. */
		if ((flows = flow_table_new(16, 4)) == NULL ||
		    pagelink_init(&link, &snap->cfg->block.page_v4,
		    &snap->cfg->block.page_v6, 80) < 0)
			abort();
	}
	meta.mono = ++clock / 8;
	meta.ts.tv_sec = 1800000000 + clock;
	/* The block page served or not, by a bit the pipeline never reads
	 * (IPv4's id, IPv6's flow label): blocked plain HTTP is answered
	 * with a redirect instead of a reset. */
	meta.page = size > 5 && ((data[0] >> 4 == 4 ? data[5] : data[3]) &
	    1) ? &link : NULL;
	pipeline_run(snap, flows, &meta, data, size, &r);
	if (r.outcome >= PL_OUTCOME_COUNT)
		__builtin_trap();
	for (i = 0; i < r.nout; i++)
		if (packet_parse(&p, r.out[i].pkt, r.out[i].len) != 0)
			__builtin_trap();
	/* A redirect: only for HTTP, only with the page, a 302 and FIN. */
	if (r.outcome == PL_DROP_BLOCKED_PAGE && (r.req.kind != REQ_HTTP ||
	    meta.page == NULL || r.nout < 1 ||
	    packet_parse(&p, r.out[0].pkt, r.out[0].len) != 0 ||
	    !(p.tcp_flags & TCP_FIN) || p.payload_len < 12 ||
	    memcmp(p.payload, "HTTP/1.1 302", 12) != 0))
		__builtin_trap();
	/* A blocked name is always in the set. */
	if ((r.outcome == PL_DROP_BLOCKED ||
	    (r.outcome == PL_DROP_BLOCKED_RESET && r.req.kind != REQ_DNS) ||
	    r.outcome == PL_DROP_BLOCKED_PAGE ||
	    r.outcome == PL_DROP_BLOCKED_QUIC) &&
	    !sgdb_lookup(snap->db, r.req.name, r.req.name_len, NULL))
		__builtin_trap();
	return 0;
}
