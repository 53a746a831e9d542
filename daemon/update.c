/*
 * update.c - see update.h.
 *
 * One feed goes through these steps; each failure ends in the one cleanup
 * at the bottom of update_feed(), which removes the temporary file and
 * leaves the copy in place alone:
 *
 *   dir/.NAME.list.XXXXXX   <- curl -o, a file of our own (mkostemp)
 *        | size, lines, entries, change against dir/NAME.list
 *        v
 *   chmod 0644, fsync, rename over dir/NAME.list, fsync dir
 *   (atomicfile_replace())
 *
 * The registry is read with config_read_other(), so it gets the config's
 * syntax check and its "FILE:LINE: what is wrong" messages.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cursor.h"
#include "lists.h"
#include "log.h"
#include "update.h"

#define UPDATE_URL_MAX		2048
#define UPDATE_DEF_MAX_CHANGE	0.5
#define UPDATE_DEF_MAX_INVALID	0.1
#define UPDATE_CONNECT_TIMEOUT	30
#define UPDATE_MAX_REDIRS	5

extern char **environ;

struct update_registry {
	struct update_feed	*feeds;
	size_t			 n;
	bool			 allow_http;
};

static const char *const root_keys[] = { "allow_http", "feeds", NULL };
static const char *const feed_keys[] = { "name", "url", "format", "category",
    "licence", "source", "min_bytes", "max_bytes", "min_entries",
    "max_change", "max_invalid", NULL };
static const char *const formats[] = { "domains", "hosts", "adblock",
    "dnsmasq", "unbound", "hashed", NULL };

/* ------------------------------------------------------------ registry */

/* One registry load: where messages go. */
struct reg_ctx {
	const char	*path;
	char		*err;
	size_t		 errlen;
};

static int	reg_err(struct reg_ctx *, const config_setting_t *,
		    const char *, ...) SG_PRINTF(3, 4);

/* "FILE:LINE: message"; returns SG_ECONFIG. */
static int
reg_err(struct reg_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
{
	char msg[CONFIG_ERR_LEN];
	va_list ap;
	unsigned line = s != NULL ? config_line(s) : 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(ctx->err, ctx->errlen, "%s:%u: %s", ctx->path, line,
		    msg);
	else
		snprintf(ctx->err, ctx->errlen, "%s: %s", ctx->path, msg);
	return SG_ECONFIG;
}

static int
check_keys(struct reg_ctx *ctx, const config_setting_t *g,
    const char *const keys[], const char *where)
{
	const config_setting_t *s;
	int i, k;

	for (i = 0; (s = config_setting_get_elem(g, (unsigned)i)) != NULL;
	    i++) {
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(config_setting_name(s), keys[k]) == 0)
				break;
		if (keys[k] == NULL)
			return reg_err(ctx, s, "unknown key '%s'%s",
			    config_setting_name(s), where);
	}
	return 0;
}

/* Printable ASCII, no space: what may go into a URL or a message as is. */
static bool
is_plain(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n > 0 && n <= max;
}

/* A string member, copied into *out; required or not. */
static int
get_str(struct reg_ctx *ctx, const config_setting_t *g, const char *key,
    const char *feed, bool required, char **out)
{
	const config_setting_t *s;
	const char *v;

	if ((s = config_setting_get_member(g, key)) == NULL) {
		if (required)
			return reg_err(ctx, g, "feed %s has no %s", feed, key);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return reg_err(ctx, s, "feed %s: %s must be a string", feed,
		    key);
	v = config_setting_get_string(s);
	if (v[0] == '\0')
		return reg_err(ctx, s, "feed %s: %s must not be empty", feed,
		    key);
	if ((*out = strdup(v)) == NULL) {
		snprintf(ctx->err, ctx->errlen, "%s: out of memory",
		    ctx->path);
		return -ENOMEM;
	}
	return 0;
}

static int
get_count(struct reg_ctx *ctx, const config_setting_t *g, const char *key,
    const char *feed, long long max, uint64_t *out)
{
	const config_setting_t *s;
	long long v;

	if ((s = config_setting_get_member(g, key)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return reg_err(ctx, s, "feed %s: %s must be an integer", feed,
		    key);
	v = config_setting_get_int64(s);
	if (v < 0 || v > max)
		return reg_err(ctx, s, "feed %s: %s must be 0..%lld, not %lld",
		    feed, key, max, v);
	*out = (uint64_t)v;
	return 0;
}

static int
get_fraction(struct reg_ctx *ctx, const config_setting_t *g, const char *key,
    const char *feed, double max, double *out)
{
	const config_setting_t *s;
	double v;

	if ((s = config_setting_get_member(g, key)) == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else
		return reg_err(ctx, s, "feed %s: %s must be a number", feed,
		    key);
	if (!(v >= 0 && v <= max))	/* NaN too */
		return reg_err(ctx, s, "feed %s: %s must be 0..%g, not %g",
		    feed, key, max, v);
	*out = v;
	return 0;
}

static int
load_feed(struct reg_ctx *ctx, struct update_registry *reg,
    const config_setting_t *g, size_t i)
{
	struct update_feed *f = &reg->feeds[i];
	const config_setting_t *s;
	char label[48];
	size_t k, skip;
	int rc, fmt;

	if (!config_setting_is_group(g))
		return reg_err(ctx, g, "feeds entry %zu must be a group: "
		    "{ name = \"...\"; url = \"...\"; ... }", i + 1);
	f->line = config_line(g);
	f->min_bytes = 1;
	f->max_bytes = UPDATE_DEF_MAX_BYTES;
	f->min_entries = 1;
	f->max_change = UPDATE_DEF_MAX_CHANGE;
	f->max_invalid = UPDATE_DEF_MAX_INVALID;

	snprintf(label, sizeof(label), "entry %zu", i + 1);
	if ((rc = get_str(ctx, g, "name", label, true, &f->name)) != 0)
		return rc;
	if (!config_valid_name(f->name))
		return reg_err(ctx, config_setting_get_member(g, "name"),
		    "feeds entry %zu: name must be 1 to %d of a-z, 0-9, _ "
		    "and -", i + 1, CONFIG_NAME_MAX);
	for (k = 0; k < i; k++)
		if (strcmp(reg->feeds[k].name, f->name) == 0)
			return reg_err(ctx, config_setting_get_member(g,
			    "name"), "feed %s is defined twice (first on line "
			    "%u)", f->name, reg->feeds[k].line);
	snprintf(label, sizeof(label), " in feed %s", f->name);
	if ((rc = check_keys(ctx, g, feed_keys, label)) != 0)
		return rc;

	if ((rc = get_str(ctx, g, "url", f->name, true, &f->url)) != 0 ||
	    (rc = get_str(ctx, g, "format", f->name, true, &f->format)) != 0 ||
	    (rc = get_str(ctx, g, "category", f->name, true,
	    &f->category)) != 0 ||
	    (rc = get_str(ctx, g, "licence", f->name, true, &f->licence)) !=
	    0 ||
	    (rc = get_str(ctx, g, "source", f->name, false, &f->source)) != 0)
		return rc;

	s = config_setting_get_member(g, "url");
	if (strncmp(f->url, "https://", 8) == 0)
		skip = 8;
	else if (strncmp(f->url, "http://", 7) == 0 && reg->allow_http)
		skip = 7;
	else if (strncmp(f->url, "http://", 7) == 0)
		return reg_err(ctx, s, "feed %s: url must be https:// (plain "
		    "http:// needs allow_http = true)", f->name);
	else
		return reg_err(ctx, s, "feed %s: url must start with https://",
		    f->name);
	if (!is_plain(f->url, UPDATE_URL_MAX) || f->url[skip] == '\0' ||
	    f->url[skip] == '/')
		return reg_err(ctx, s, "feed %s: url must be a host and path of "
		    "printable ASCII without spaces, at most %d bytes",
		    f->name, UPDATE_URL_MAX);

	for (fmt = 0; formats[fmt] != NULL; fmt++)
		if (strcmp(f->format, formats[fmt]) == 0)
			break;
	if (formats[fmt] == NULL)
		return reg_err(ctx, config_setting_get_member(g, "format"),
		    "feed %s: format must be \"domains\", \"hosts\", "
		    "\"adblock\", \"dnsmasq\", \"unbound\" or \"hashed\"",
		    f->name);
	f->hashed = strcmp(f->format, "hashed") == 0;
	if (!config_valid_name(f->category))
		return reg_err(ctx, config_setting_get_member(g, "category"),
		    "feed %s: category must be 1 to %d of a-z, 0-9, _ and -",
		    f->name, CONFIG_NAME_MAX);

	if ((rc = get_count(ctx, g, "min_bytes", f->name,
	    (long long)UPDATE_MAX_BYTES, &f->min_bytes)) != 0 ||
	    (rc = get_count(ctx, g, "max_bytes", f->name,
	    (long long)UPDATE_MAX_BYTES, &f->max_bytes)) != 0 ||
	    (rc = get_count(ctx, g, "min_entries", f->name,
	    (long long)UPDATE_MAX_BYTES, &f->min_entries)) != 0 ||
	    (rc = get_fraction(ctx, g, "max_change", f->name, 100,
	    &f->max_change)) != 0 ||
	    (rc = get_fraction(ctx, g, "max_invalid", f->name, 1,
	    &f->max_invalid)) != 0)
		return rc;
	if (f->min_bytes > f->max_bytes)
		return reg_err(ctx, g, "feed %s: min_bytes (%llu) is more than "
		    "max_bytes (%llu)", f->name,
		    (unsigned long long)f->min_bytes,
		    (unsigned long long)f->max_bytes);
	return 0;
}

static int
load_registry(struct reg_ctx *ctx, struct update_registry *reg,
    const config_setting_t *root)
{
	const config_setting_t *s, *list;
	size_t i, n;
	int rc;

	if ((rc = check_keys(ctx, root, root_keys, "")) != 0)
		return rc;
	if ((s = config_setting_get_member(root, "allow_http")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return reg_err(ctx, s, "allow_http must be true or "
			    "false");
		reg->allow_http = config_setting_get_bool(s) != 0;
	}
	if ((list = config_setting_get_member(root, "feeds")) == NULL)
		return 0;
	if (!config_setting_is_list(list))
		return reg_err(ctx, list, "feeds must be a list of groups: "
		    "feeds = ( { name = \"...\"; ... } );");
	if ((n = (size_t)config_setting_length(list)) == 0)
		return 0;
	if ((reg->feeds = calloc(n, sizeof(*reg->feeds))) == NULL) {
		snprintf(ctx->err, ctx->errlen, "%s: out of memory",
		    ctx->path);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		reg->n = i + 1;		/* what update_registry_free() frees */
		if ((rc = load_feed(ctx, reg, config_setting_get_elem(list,
		    (unsigned)i), i)) != 0)
			return rc;
	}
	return 0;
}

struct update_registry *
update_registry_load(const char *path, char *err, size_t errlen)
{
	struct reg_ctx ctx = { path, err, errlen };
	struct update_registry *reg;
	config_t lc;
	int rc;

	if ((rc = config_read_other(path, &lc, err, errlen)) != 0) {
		errno = rc == SG_ECONFIG ? EINVAL : -rc;
		return NULL;
	}
	if ((reg = calloc(1, sizeof(*reg))) == NULL) {
		config_destroy(&lc);
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	rc = load_registry(&ctx, reg, config_root_setting(&lc));
	config_destroy(&lc);
	if (rc != 0) {
		update_registry_free(reg);
		errno = rc == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	return reg;
}

void
update_registry_free(struct update_registry *reg)
{
	struct update_feed *f;
	size_t i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n; i++) {
		f = &reg->feeds[i];
		free(f->name);
		free(f->url);
		free(f->format);
		free(f->category);
		free(f->licence);
		free(f->source);
	}
	free(reg->feeds);
	free(reg);
}

size_t
update_registry_count(const struct update_registry *reg)
{
	return reg->n;
}

const struct update_feed *
update_registry_feed(const struct update_registry *reg, size_t i)
{
	return i < reg->n ? &reg->feeds[i] : NULL;
}

const struct update_feed *
update_registry_find(const struct update_registry *reg, const char *name)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (strcmp(reg->feeds[i].name, name) == 0)
			return &reg->feeds[i];
	return NULL;
}

int
update_check_config(const struct update_registry *reg,
    const struct config *cfg, char *err, size_t errlen)
{
	const struct config_list *l;
	const struct update_feed *f;
	size_t i, k;

	for (i = 0; i < cfg->nlists; i++) {
		l = &cfg->lists[i];
		for (k = 0; k < l->nfeeds; k++) {
			if ((f = update_registry_find(reg, l->feeds[k])) ==
			    NULL) {
				snprintf(err, errlen, "%s:%d: lists entry %zu "
				    "(%s): no feed \"%s\" in the registry",
				    cfg->source, l->line, i + 1, l->category,
				    l->feeds[k]);
				return SG_ECONFIG;
			}
			if (f->hashed != l->confidential) {
				snprintf(err, errlen, "%s:%d: lists entry %zu "
				    "(%s): feed \"%s\" is %s, but the category "
				    "is %sconfidential", cfg->source, l->line,
				    i + 1, l->category, f->name, f->hashed ?
				    "hashed" : "not hashed", l->confidential ?
				    "" : "not ");
				return SG_ECONFIG;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------ download */

static int	set_line(struct update_result *, const char *, ...)
		    SG_PRINTF(2, 3);

static int
set_line(struct update_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->line, sizeof(res->line), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * Counts what a list holds; the names themselves are not kept.  A
 * download is only ever counted here, compile.h reads it for real.
 */
static int
count_name(void *arg, const char *name, size_t len, bool allow)
{
	(void)arg;
	(void)name;
	(void)len;
	(void)allow;
	return 0;
}

static int
count_hash(void *arg, const uint8_t sha256[LISTS_SHA256_LEN])
{
	(void)arg;
	(void)sha256;
	return 0;
}

static int
count_entries(const char *path, bool hashed, struct lists_stats *st)
{
	const struct lists_sink sink = { count_name, count_hash, NULL };

	memset(st, 0, sizeof(*st));
	return lists_read_file(path, hashed, &sink, st, NULL, NULL);
}

/*
 * What curl wrote to stdout: --write-out's "%{http_code}", three digits,
 * 0 if none (no HTTP exchange).
 */
static unsigned
parse_http_code(const char *buf, size_t len)
{
	struct cursor c;
	unsigned code = 0, i;
	uint8_t b;

	cursor_init(&c, buf, len);
	for (i = 0; i < 3; i++) {
		b = cursor_u8(&c);
		if (c.err != 0 || b < '0' || b > '9')
			return 0;
		code = code * 10 + (unsigned)(b - '0');
	}
	return code;
}

/* Why curl failed, in the stable words of update.h. */
static void
curl_reason(int status, unsigned http, const struct update_feed *f,
    unsigned timeout, char *buf, size_t len)
{
	int code;

	if (WIFSIGNALED(status)) {
		snprintf(buf, len, "download: curl killed by signal %d",
		    WTERMSIG(status));
		return;
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	switch (code) {
	case 22:
		snprintf(buf, len, "download: HTTP %u", http);
		break;
	case 6:
		snprintf(buf, len, "download: cannot resolve the host");
		break;
	case 7:
		snprintf(buf, len, "download: cannot connect");
		break;
	case 28:
		snprintf(buf, len, "download: timed out after %u s", timeout);
		break;
	case 63:
		snprintf(buf, len, "download: larger than max_bytes (%llu)",
		    (unsigned long long)f->max_bytes);
		break;
	case 35: case 51: case 53: case 54: case 58: case 59: case 60:
	case 64: case 66: case 77: case 80: case 82: case 83: case 90:
	case 91:
		snprintf(buf, len, "download: TLS error");
		break;
	case 1:
		snprintf(buf, len, "download: refused protocol or redirect");
		break;
	case 47:
		snprintf(buf, len, "download: too many redirects");
		break;
	case 127:
		snprintf(buf, len, "download: cannot run curl: not found");
		break;
	default:
		snprintf(buf, len, "download: curl exit %d", code);
	}
}

/*
 * Runs curl for f into tmp.  Returns 0 when it succeeded, else -EIO with
 * the reason in why (or -errno when curl could not be run at all).
 */
static int
run_curl(const struct update_feed *f, const char *tmp, bool allow_http,
    const struct update_opts *opts, char *why, size_t whylen)
{
	posix_spawn_file_actions_t fa;
	char maxtime[24], maxsize[24], conntime[24], redirs[24], out[16];
	const char *curl = opts->curl != NULL ? opts->curl : "curl";
	const char *proto = allow_http ? "=http,https" : "=https";
	unsigned timeout = opts->timeout > 0 ? opts->timeout :
	    UPDATE_DEF_TIMEOUT;
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int pfd[2], status, rc;

	snprintf(maxtime, sizeof(maxtime), "%u", timeout);
	snprintf(conntime, sizeof(conntime), "%u",
	    timeout < UPDATE_CONNECT_TIMEOUT ? timeout :
	    UPDATE_CONNECT_TIMEOUT);
	snprintf(maxsize, sizeof(maxsize), "%llu",
	    (unsigned long long)f->max_bytes);
	snprintf(redirs, sizeof(redirs), "%d", UPDATE_MAX_REDIRS);
	/* -q first: no ~/.curlrc.  --globoff: [] and {} in a URL are not
	   curl's patterns.  --proto-redir: a redirect cannot step down to
	   http or over to file:// and friends. */
	char *const argv[] = { (char *)curl, "-q", "--fail", "--silent",
	    "--show-error", "--location", "--globoff",
	    "--proto", (char *)proto, "--proto-redir", (char *)proto,
	    "--max-redirs", redirs, "--connect-timeout", conntime,
	    "--max-time", maxtime, "--max-filesize", maxsize,
	    "--output", (char *)tmp, "--write-out", "%{http_code}",
	    "--url", f->url, NULL };

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		rc = -errno;
		snprintf(why, whylen, "download: cannot run curl: %s",
		    sg_strerror(rc));
		return rc;
	}
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		close(pfd[0]);
		close(pfd[1]);
		snprintf(why, whylen, "download: cannot run curl: %s",
		    strerror(rc));
		return -rc;
	}
	if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, pfd[1], 1)) != 0 ||
	    (rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null",
	    O_WRONLY, 0)) != 0 ||
	    (rc = posix_spawnp(&pid, curl, &fa, NULL, argv, environ)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		snprintf(why, whylen, "download: cannot run curl: %s",
		    strerror(rc));
		return -rc;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	/* A few bytes are expected; more are read and dropped, so that curl
	   never blocks on a full pipe. */
	for (;;) {
		char sink[256];

		n = read(pfd[0], got < sizeof(out) ? out + got : sink,
		    got < sizeof(out) ? sizeof(out) - got : sizeof(sink));
		if (n > 0) {
			if (got < sizeof(out))
				got += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		break;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			rc = -errno;
			snprintf(why, whylen, "download: waiting for curl: %s",
			    sg_strerror(rc));
			return rc;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	curl_reason(status, parse_http_code(out, got), f, timeout, why,
	    whylen);
	return -EIO;
}

/* The change from old to new entries, as a fraction of old (> 0). */
static double
change_of(size_t old, size_t new)
{
	double d = (double)new - (double)old;

	return (d < 0 ? -d : d) / (double)old;
}

int
update_feed(const struct update_feed *f, const char *dir,
    const struct update_opts *opts, struct update_result *res)
{
	static const struct update_opts none;
	char dest[PATH_MAX], tmp[PATH_MAX], why[160];
	struct lists_stats st, prev;
	struct stat sb;
	size_t holding;
	bool tmp_made = false;
	int fd, rc, err = 0;

	if (opts == NULL)
		opts = &none;
	memset(res, 0, sizeof(*res));
	res->feed = f;
	why[0] = '\0';
	if ((size_t)snprintf(dest, sizeof(dest), "%s/%s.list", dir, f->name) >=
	    sizeof(dest) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.list.XXXXXX", dir,
	    f->name) >= sizeof(tmp)) {
		res->error = -ENAMETOOLONG;
		set_line(res, "%s: failed: the path is too long", f->name);
		return -ENAMETOOLONG;
	}

	/* What is in place now, to compare against and to report. */
	if (count_entries(dest, f->hashed, &prev) == 0) {
		res->had_previous = true;
		res->previous = prev.entries + prev.allows;
	}

	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		err = -errno;
		snprintf(why, sizeof(why), "cannot create a file in %s: %s",
		    dir, sg_strerror(err));
		goto verdict;
	}
	close(fd);
	tmp_made = true;

	if ((err = run_curl(f, tmp, strncmp(f->url, "http://", 7) == 0, opts,
	    why, sizeof(why))) != 0)
		goto verdict;

	if (stat(tmp, &sb) == -1) {
		err = -errno;
		snprintf(why, sizeof(why), "cannot read it: %s",
		    sg_strerror(err));
		goto verdict;
	}
	res->bytes = (uint64_t)sb.st_size;
	if (res->bytes > f->max_bytes) {
		err = -EFBIG;
		snprintf(why, sizeof(why), "too big: %llu bytes, at most %llu",
		    (unsigned long long)res->bytes,
		    (unsigned long long)f->max_bytes);
		goto verdict;
	}
	if (res->bytes < f->min_bytes) {
		err = SG_ETRUNC;
		snprintf(why, sizeof(why), "too small: %llu bytes, at least "
		    "%llu", (unsigned long long)res->bytes,
		    (unsigned long long)f->min_bytes);
		goto verdict;
	}

	if ((rc = count_entries(tmp, f->hashed, &st)) != 0) {
		err = rc;
		snprintf(why, sizeof(why), "cannot read it: %s",
		    sg_strerror(rc));
		goto verdict;
	}
	res->entries = st.entries + st.allows;
	holding = st.entries + st.allows + st.invalid + st.skipped;
	if (st.invalid > 0 &&
	    (double)st.invalid > f->max_invalid * (double)holding) {
		err = SG_EMALFORMED;
		snprintf(why, sizeof(why), "too many invalid lines: %zu of %zu, "
		    "at most %g%%", st.invalid, holding, f->max_invalid * 100);
		goto verdict;
	}
	if (res->entries < f->min_entries) {
		err = SG_EMALFORMED;
		snprintf(why, sizeof(why), "too few entries: %zu, at least "
		    "%llu", res->entries, (unsigned long long)f->min_entries);
		goto verdict;
	}
	if (res->had_previous && res->previous > 0 &&
	    change_of(res->previous, res->entries) > f->max_change) {
		err = SG_ELIMIT;
		snprintf(why, sizeof(why), "entry count changed by %.0f%% "
		    "(%zu -> %zu), at most %g%%", 100 *
		    change_of(res->previous, res->entries), res->previous,
		    res->entries, f->max_change * 100);
		goto verdict;
	}

	/* Durable before it is visible: a crash leaves the old copy or the
	   whole new one. */
	if ((err = atomicfile_replace(tmp, dest, 0644)) != 0) {
		snprintf(why, sizeof(why), "cannot put it in place: %s",
		    sg_strerror(err));
		goto verdict;
	}
	tmp_made = false;
	res->updated = true;

verdict:
	if (tmp_made)
		(void)unlink(tmp);
	res->error = err;
	if (res->updated) {
		if (res->had_previous)
			set_line(res, "%s: updated, %zu entries, %llu bytes "
			    "(was %zu entries)", f->name, res->entries,
			    (unsigned long long)res->bytes, res->previous);
		else
			set_line(res, "%s: updated, %zu entries, %llu bytes "
			    "(new)", f->name, res->entries,
			    (unsigned long long)res->bytes);
	} else if (res->had_previous)
		set_line(res, "%s: failed: %s; kept the previous copy (%zu "
		    "entries)", f->name, why, res->previous);
	else
		set_line(res, "%s: failed: %s; there is no previous copy",
		    f->name, why);
	return 0;
}

/* ------------------------------------------------------------- config */

/* Whether name is among the first n results already. */
static bool
seen(const struct update_summary *sum, const char *name)
{
	size_t i;

	for (i = 0; i < sum->n; i++)
		if (strcmp(sum->results[i].feed->name, name) == 0)
			return true;
	return false;
}

int
update_config(const struct update_registry *reg, const struct config *cfg,
    const struct update_opts *opts, struct update_summary *sum, char *err,
    size_t errlen)
{
	char dir[PATH_MAX], lock[PATH_MAX];
	const struct config_list *l;
	size_t i, k, total = 0;
	int lfd = -1, rc;

	memset(sum, 0, sizeof(*sum));
	if ((rc = update_check_config(reg, cfg, err, errlen)) != 0)
		return rc;
	for (i = 0; i < cfg->nlists; i++)
		total += cfg->lists[i].nfeeds;
	if (total == 0)
		return 0;

	if (config_feeds_dir(cfg, dir, sizeof(dir)) == NULL ||
	    (size_t)snprintf(lock, sizeof(lock), "%s/.lock", dir) >=
	    sizeof(lock)) {
		snprintf(err, errlen, "%s: the feeds folder's path is too "
		    "long", cfg->source);
		return -ENAMETOOLONG;
	}
	/* The folder of lists_db too, on a router where the daemon (whose
	 * unit creates it) has never run yet. */
	{
		char parent[PATH_MAX], *slash;

		snprintf(parent, sizeof(parent), "%s", dir);
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
			*slash = '\0';
			(void)mkdir(parent, 0755);
		}
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, sg_strerror(rc));
		return rc;
	}
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", lock, sg_strerror(rc));
		return rc;
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) == -1) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "%s: %s", dir, rc == -EBUSY ?
		    "another update is running" : sg_strerror(rc));
		close(lfd);
		return rc;
	}

	if ((sum->results = calloc(total, sizeof(*sum->results))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(lfd);
		return -ENOMEM;
	}
	for (i = 0; i < cfg->nlists; i++) {
		l = &cfg->lists[i];
		for (k = 0; k < l->nfeeds; k++) {
			if (seen(sum, l->feeds[k]))
				continue;
			rc = update_feed(update_registry_find(reg,
			    l->feeds[k]), dir, opts, &sum->results[sum->n]);
			if (rc != 0 && rc != -ENAMETOOLONG) {
				snprintf(err, errlen, "%s", sg_strerror(rc));
				update_summary_free(sum);
				close(lfd);
				return rc;
			}
			if (!sum->results[sum->n].updated)
				sum->failed++;
			if (opts != NULL && opts->report != NULL)
				opts->report(opts->arg, &sum->results[sum->n]);
			sum->n++;
		}
	}
	close(lfd);
	return 0;
}

void
update_summary_free(struct update_summary *sum)
{
	if (sum == NULL)
		return;
	free(sum->results);
	memset(sum, 0, sizeof(*sum));
}
