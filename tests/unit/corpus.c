/*
 * corpus.c - see corpus.h.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "capture.h"
#include "corpus.h"
#include "packet.h"

#define STREAMS_MAX	256

struct stream {
	struct sg_addr	src, dst;
	uint16_t	sport, dport;
	uint32_t	next;
	size_t		len;
	bool		done;
	uint8_t		*buf;
};

const char *
corpus_shared_dir(void)
{
	const char *s = getenv("SHARED");

	return s != NULL ? s : "../shared";
}

void
corpus_tsv_field(const char *line, int i, char *out, size_t cap)
{
	const char *e;
	size_t n;

	while (i-- > 0 && (line = strchr(line, '\t')) != NULL)
		line++;
	out[0] = '\0';
	if (line == NULL)
		return;
	e = strpbrk(line, "\t\n");
	n = e != NULL ? (size_t)(e - line) : strlen(line);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, line, n);
	out[n] = '\0';
}

int
corpus_tsv_col(const char *header, const char *name)
{
	char f[128];
	int i;

	for (i = 0; i < 64; i++) {
		corpus_tsv_field(header, i, f, sizeof(f));
		if (strcmp(f, name) == 0)
			return i;
	}
	return -1;
}

void
corpus_tcp_streams(const char *pcap, size_t cap, corpus_stream_fn *fn,
    void *arg)
{
	struct stream *st = calloc(STREAMS_MAX, sizeof(*st)), *f;
	struct capture_packet cp;
	struct capture *c;
	struct packet p;
	char path[4096], err[256];
	size_t n = 0, k, take;

	cr_assert_not_null(st);
	snprintf(path, sizeof(path), "%s/corpus/pcap/%s", corpus_shared_dir(),
	    pcap);
	c = capture_open_file(path, err, sizeof(err));
	cr_assert_not_null(c, "%s: %s", path, err);
	while (capture_next(c, &cp) == 1) {
		if (packet_parse(&p, cp.data, cp.len) != 0 ||
		    p.proto != IPPROTO_TCP || p.payload_len == 0)
			continue;
		for (f = NULL, k = 0; k < n && f == NULL; k++)
			if (st[k].sport == p.sport && st[k].dport == p.dport &&
			    addr_equal(&st[k].src, &p.src) &&
			    addr_equal(&st[k].dst, &p.dst))
				f = &st[k];
		if (f == NULL) {
			if (n == STREAMS_MAX)
				continue;
			f = &st[n++];
			f->src = p.src;
			f->dst = p.dst;
			f->sport = p.sport;
			f->dport = p.dport;
			f->next = p.seq;
			f->buf = malloc(cap);
			cr_assert_not_null(f->buf);
		}
		if (f->done || p.seq != f->next)
			continue;
		take = p.payload_len < cap - f->len ? p.payload_len :
		    cap - f->len;
		memcpy(f->buf + f->len, p.payload, take);
		f->len += take;
		f->next += (uint32_t)p.payload_len;
		f->done = fn(arg, f->buf, f->len, cp.frame);
	}
	capture_close(c);
	for (k = 0; k < n; k++)
		free(st[k].buf);
	free(st);
}
