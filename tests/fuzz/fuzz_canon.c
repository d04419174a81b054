/* The canonical form and hash of whatever card the input parses to: the form must be JSON
 * that reads back as the same form, and the hash must not depend on when it is taken. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "card.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct card_diags diags = {0};
	struct card *card = NULL;
	if (card_parse((const char *)data, size, "fuzz.yaml", &card, &diags) == 0) {
		char *json = card_canonical_json(card);
		char a[65], b[65];
		int ha = card_hash(card, a), hb = card_hash(card, b);
		if (json) {
			cJSON *back = cJSON_Parse(json);
			char *again = back ? cJSON_PrintUnformatted(back) : NULL;
			/* allocation failures aside, the form is JSON and prints back the same */
			if (!back || (again && strcmp(again, json) != 0))
				abort();
			free(again);
			cJSON_Delete(back);
		}
		if (ha == 0 && hb == 0 && strcmp(a, b) != 0)
			abort();
		free(json);
	}
	card_free(card);
	card_diags_free(&diags);
	return 0;
}
