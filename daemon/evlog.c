/*
 * evlog.c - see evlog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns.h"
#include "evlog.h"

struct evlog {
	int		fd;
};

struct jbuf {
	char	*p;
	size_t	 len, cap;
	bool	 overflow;
};

static void
jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
jb_str(struct jbuf *b, const char *s)
{
	jb_raw(b, s, strlen(s));
}

/*
 * A JSON string from arbitrary bytes.  Names off the wire may hold any
 * byte: everything outside printable ASCII is written as \u00XX, so the
 * line stays valid JSON (and valid UTF-8) whatever the name held.
 */
static void
jb_quoted(struct jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t i;

	jb_raw(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			char two[2] = { '\\', (char)ch };

			jb_raw(b, two, 2);
		} else if (ch < 0x20 || ch >= 0x7f) {
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			jb_raw(b, esc, 6);
		} else
			jb_raw(b, (const char *)&ch, 1);
	}
	jb_raw(b, "\"", 1);
}

/* ".uuuuuuZ\"" - without printf: events are formatted on the packet path. */
static void
frac_usec(long nsec, char out[10])
{
	long us = nsec / 1000;
	int i;

	if (us < 0 || us > 999999)
		us = 0;
	out[0] = '.';
	for (i = 6; i >= 1; i--) {
		out[i] = (char)('0' + us % 10);
		us /= 10;
	}
	out[7] = 'Z';
	out[8] = '"';
	out[9] = '\0';
}

int
evlog_format(const struct event *ev, char *buf, size_t len)
{
	struct jbuf b = { buf, 0, len, len == 0 };
	/* The second changes far less often than events come. */
	static __thread time_t cached_sec = -1;
	static __thread char cached[32];
	char tmp[64], addr[ADDR_STRLEN];
	struct tm tm;
	time_t t = ev->ts.tv_sec;
	bool first = true;
	size_t i;

	if (t != cached_sec) {
		gmtime_r(&t, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = t;
	}
	jb_str(&b, "{\"ts\":\"");
	jb_str(&b, cached);
	frac_usec(ev->ts.tv_nsec, tmp);
	jb_str(&b, tmp);
	jb_str(&b, ",\"kind\":");
	jb_quoted(&b, ev->kind, strlen(ev->kind));
	jb_str(&b, ",\"transport\":");
	jb_quoted(&b, ev->transport, strlen(ev->transport));
	jb_str(&b, ",\"client\":\"");
	jb_str(&b, addr_ntop(&ev->client, addr, sizeof(addr)));
	jb_str(&b, "\",\"mac\":");
	if (ev->mac != NULL) {
		jb_str(&b, "\"");
		jb_str(&b, mac_ntop(ev->mac, tmp, sizeof(tmp)));
		jb_str(&b, "\"");
	} else
		jb_str(&b, "null");
	jb_str(&b, ",\"name\":");
	if (ev->confidential)
		jb_str(&b, "null");
	else
		jb_quoted(&b, ev->name, ev->name_len);
	if (ev->qtype != 0) {
		jb_str(&b, ",\"qtype\":\"");
		jb_str(&b, dns_type_name(ev->qtype, tmp, sizeof(tmp)));
		jb_str(&b, "\"");
	}
	jb_str(&b, ",\"categories\":[");
	for (i = 0; i < 64; i++) {
		if (!(ev->categories & (UINT64_C(1) << i)))
			continue;
		if (!first)
			jb_str(&b, ",");
		first = false;
		if (i < ev->ncategory_names && ev->category_names[i] != NULL)
			jb_quoted(&b, ev->category_names[i],
			    strlen(ev->category_names[i]));
		else {
			snprintf(tmp, sizeof(tmp), "\"#%zu\"", i);
			jb_str(&b, tmp);
		}
	}
	jb_str(&b, "],\"rule\":");
	if (ev->confidential) {
		jb_str(&b, "\"hash:");
		for (i = 0; i < 32; i++) {
			snprintf(tmp, sizeof(tmp), "%02x", ev->hash[i]);
			jb_str(&b, tmp);
		}
		jb_str(&b, "\",\"list\":");
		jb_quoted(&b, ev->list, strlen(ev->list));
	} else
		jb_quoted(&b, ev->rule != NULL ? ev->rule : "", ev->rule_len);
	if (ev->ech)
		jb_str(&b, ",\"ech\":true");
	jb_str(&b, ",\"action\":");
	jb_quoted(&b, ev->action, strlen(ev->action));
	jb_str(&b, "}\n");
	return b.overflow ? SG_ELIMIT : (int)b.len;
}

/* mkdir -p of path's parent directory. */
static int
make_parent(const char *path)
{
	char dir[PATH_MAX], *p;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

struct evlog *
evlog_open(const char *path)
{
	struct evlog *ev;
	int r;

	if ((r = make_parent(path)) < 0) {
		errno = -r;
		return NULL;
	}
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return NULL;
	ev->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (ev->fd == -1) {
		r = errno;
		free(ev);
		errno = r;
		return NULL;
	}
	return ev;
}

void
evlog_close(struct evlog *ev)
{
	if (ev == NULL)
		return;
	close(ev->fd);
	free(ev);
}

int
evlog_write(struct evlog *ev, const struct event *e)
{
	char line[EVLOG_LINE_MAX];
	int len;

	if ((len = evlog_format(e, line, sizeof(line))) < 0)
		return len;
	return evlog_append(ev, line, (size_t)len);
}

int
evlog_append(struct evlog *ev, const char *lines, size_t len)
{
	ssize_t n;

	do
		n = write(ev->fd, lines, len);
	while (n == -1 && errno == EINTR);
	if (n < 0 || (size_t)n != len)
		return n == -1 ? -errno : -EIO;
	return 0;
}
