/*
 * fuzz_config.c - libFuzzer target for config_load_string() and the
 * canonical printer.
 *
 * Any bytes either load or give a message.  A config that loads must print
 * to text that loads again and prints the same (the round trip that
 * safegated -n promises).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
print(const struct config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *fp;

	if ((fp = open_memstream(&buf, len)) == NULL)
		abort();
	config_print(cfg, fp);
	if (fclose(fp) != 0)
		abort();
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERR_LEN], *text, *a, *b;
	struct config *cfg, *again;
	size_t alen, blen;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	cfg = config_load_string("fuzz.conf", text, err, sizeof(err));
	free(text);
	if (cfg == NULL) {
		/* Every refusal says where: "fuzz.conf:" and a message. */
		if (strncmp(err, "fuzz.conf:", 10) != 0 || err[10] == '\0')
			abort();
		return 0;
	}
	a = print(cfg, &alen);
	again = config_load_string("fuzz.conf", a, err, sizeof(err));
	if (again == NULL) {
		fprintf(stderr, "canonical text does not load: %s\n%s", err, a);
		abort();
	}
	b = print(again, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		fprintf(stderr, "round trip differs:\n%s----\n%s", a, b);
		abort();
	}
	free(a);
	free(b);
	config_free(again);
	config_free(cfg);
	return 0;
}
