/* {{ paths.k }} / {{ secrets.k }} placeholders: the input as one string expanded, and, when it
 * is a card, checked and substituted, against fixed values: a defined path, an empty one, a
 * generated one, a secret, and a 64 KB path so that 17 names reach the byte bound. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "placeholder.h"

#define BIG 65536

static void put(struct card_map *map, const char *key, const char *value)
{
	struct card_kv *items = realloc(map->items, (map->count + 1) * sizeof(*items));
	if (!items)
		abort();
	map->items = items;
	items[map->count++] = (struct card_kv){.key = strdup(key), .value = strdup(value)};
}

static const struct card_values *values(void)
{
	static struct card_values v;
	static bool made;
	if (!made) {
		char *big = malloc(BIG + 1);
		if (!big)
			abort();
		memset(big, 'b', BIG);
		big[BIG] = '\0';
		put(&v.paths, "data", "/srv/data");
		put(&v.paths, "empty", "");
		put(&v.paths, "big", big);
		put(&v.generated, "cache", "/ws/.cutip/cache");
		put(&v.secrets, "token", "s3cr3t");
		put(&v.secrets, "blank", "");
		v.have_paths = v.have_secrets = true;
		free(big);
		made = true;
	}
	return &v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *missing = NULL;
	free(card_placeholders_expand(text, values(), &missing));
	free(missing);

	struct card_diags diags = {0};
	struct card *card = NULL;
	if (card_parse((const char *)data, size, "fuzz.yaml", &card, &diags) == 0) {
		card_placeholders_check(card, values(), &diags);
		card_placeholders_substitute(card, values(), &diags);
	}
	card_free(card);
	card_diags_free(&diags);
	free(text);
	return 0;
}
