/* The canonical form of a card's effective spec (defaults filled, map keys sorted, unknown keys
 * dropped) as compact JSON, and its SHA-256. Two cards that mean the same get the same hash
 * however they are written; any change of a field changes it. The mount labels what it
 * creates with this hash, to tell whether a running object still matches its card. */
#ifndef CUTIPFS_CARDS_CANON_H
#define CUTIPFS_CARDS_CANON_H

#include "card.h"

/* malloc'd compact JSON: {"apiVersion":"cutip/v1","kind":..,"metadata":{..},"spec":{..}}. */
char *card_canonical_json(const struct card *card);
/* 64 lowercase hex digits and a NUL into out. Returns 0, or -1 on allocation failure. */
int card_hash(const struct card *card, char out[65]);

#endif
