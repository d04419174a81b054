/* Card parse and validation, every kind: the input is one or more cards separated by lines
 * "#%%" (a YAML comment, so one card alone is a plain card file), each parsed as `cutipfs
 * check` and the mount parse a file, then registered and checked against each other (refs,
 * CUTIP's graph rules), every message formatted as it would be printed. */
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "fuzz.h"
#include "registry.h"

#define SEPARATOR "\n#%%\n"

static void format_all(const struct card_diags *diags)
{
	for (size_t i = 0; i < diags->count; i++)
		free(card_diag_format(&diags->items[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct card_registry reg = {0};
	struct card_diags diags = {0};
	const char *end = text + size;
	for (const char *part = text; part && part <= end;) {
		const char *sep = strstr(part, SEPARATOR);
		size_t len = sep ? (size_t)(sep - part) : (size_t)(end - part);
		struct card *card = NULL;
		if (card_parse(part, len, "fuzz.yaml", &card, &diags) == 0) {
			free(card_ref_of(card));
			card_registry_add(&reg, card, &diags);
		}
		part = sep ? sep + strlen(SEPARATOR) : NULL;
	}
	for (size_t i = 0; i < reg.count; i++)
		card_unresolved_refs(&reg, reg.cards[i], &diags);
	card_registry_validate(&reg, "/nonexistent-fuzz-root", &diags);
	format_all(&diags);
	card_diags_free(&diags);
	card_registry_free(&reg);
	free(text);
	return 0;
}
