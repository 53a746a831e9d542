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
#include "sbuf.h"

struct evlog {
	int		fd;
};

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
	struct sbuf b;
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
	sbuf_init(&b, buf, len);
	sbuf_str(&b, "{\"ts\":\"");
	sbuf_str(&b, cached);
	frac_usec(ev->ts.tv_nsec, tmp);
	sbuf_str(&b, tmp);
	sbuf_str(&b, ",\"kind\":");
	sbuf_json_string(&b, ev->kind, strlen(ev->kind));
	sbuf_str(&b, ",\"transport\":");
	sbuf_json_string(&b, ev->transport, strlen(ev->transport));
	sbuf_str(&b, ",\"client\":\"");
	sbuf_str(&b, addr_ntop(&ev->client, addr, sizeof(addr)));
	sbuf_str(&b, "\",\"mac\":");
	if (ev->mac != NULL) {
		sbuf_str(&b, "\"");
		sbuf_str(&b, mac_ntop(ev->mac, tmp, sizeof(tmp)));
		sbuf_str(&b, "\"");
	} else
		sbuf_str(&b, "null");
	if (ev->profile != NULL) {
		sbuf_str(&b, ",\"device\":");
		if (ev->device != NULL)
			sbuf_json_string(&b, ev->device, strlen(ev->device));
		else
			sbuf_str(&b, "null");
		sbuf_str(&b, ",\"profile\":");
		sbuf_json_string(&b, ev->profile, strlen(ev->profile));
	}
	sbuf_str(&b, ",\"name\":");
	if (ev->confidential)
		sbuf_str(&b, "null");
	else
		sbuf_json_string(&b, ev->name, ev->name_len);
	if (ev->qtype != 0) {
		sbuf_str(&b, ",\"qtype\":\"");
		sbuf_str(&b, dns_type_name(ev->qtype, tmp, sizeof(tmp)));
		sbuf_str(&b, "\"");
	}
	sbuf_str(&b, ",\"categories\":[");
	for (i = 0; i < 64; i++) {
		if (!(ev->categories & (UINT64_C(1) << i)))
			continue;
		if (!first)
			sbuf_str(&b, ",");
		first = false;
		if (i < ev->ncategory_names && ev->category_names[i] != NULL)
			sbuf_json_string(&b, ev->category_names[i],
			    strlen(ev->category_names[i]));
		else {
			snprintf(tmp, sizeof(tmp), "\"#%zu\"", i);
			sbuf_str(&b, tmp);
		}
	}
	sbuf_str(&b, "],\"rule\":");
	if (ev->confidential) {
		sbuf_str(&b, "\"hash:");
		for (i = 0; i < 32; i++) {
			snprintf(tmp, sizeof(tmp), "%02x", ev->hash[i]);
			sbuf_str(&b, tmp);
		}
		sbuf_str(&b, "\",\"list\":");
		sbuf_json_string(&b, ev->list, strlen(ev->list));
	} else
		sbuf_json_string(&b, ev->rule != NULL ? ev->rule : "", ev->rule_len);
	if (ev->ech)
		sbuf_str(&b, ",\"ech\":true");
	if (ev->reason != NULL) {
		sbuf_str(&b, ",\"reason\":");
		sbuf_json_string(&b, ev->reason, strlen(ev->reason));
	}
	if (ev->schedule != NULL) {
		sbuf_str(&b, ",\"schedule\":");
		sbuf_json_string(&b, ev->schedule, strlen(ev->schedule));
	}
	sbuf_str(&b, ",\"action\":");
	sbuf_json_string(&b, ev->action, strlen(ev->action));
	sbuf_str(&b, "}\n");
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
