/* The cards of a foreign container as the mount shows them (workspace.h ws_adopt_card): made
 * from the state's inspect documents (objects.c) by adopt.c, with no engine request but when
 * the state has not read the container in full yet. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ws-int.h"

/* The user network the container's card names, from its document. */
static bool doc_net(const char *container, char *name, size_t len)
{
	cJSON *doc = cJSON_Parse(container);
	const cJSON *nets = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "NetworkSettings"), "Networks");
	char *names = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&names, &n);
	const cJSON *one;
	cJSON_ArrayForEach(one, nets) if (f && one->string) fprintf(f, "\n%s", one->string);
	bool found = f && fclose(f) == 0 && ws_adopt_user_net(names, name, len);
	free(names);
	cJSON_Delete(doc);
	return found;
}

int ws_adopt_card(struct workspace *ws, const char *name, enum card_kind kind, char **text,
		  size_t *len)
{
	struct ws_object obj;
	char *doc = NULL, *netdoc = NULL, net[128];
	size_t n = 0;
	int rc = ws_lookup(ws, WS_CONTAINER, name, &obj);

	*text = NULL;
	*len = 0;
	/* Ours, or a card's not made yet: its card is in cards/. */
	if (rc == 0 && (obj.managed || !obj.id[0]))
		rc = -ENOENT;
	if (rc == 0)
		rc = ws_inspect(ws, WS_CONTAINER, name, &doc, &n);
	/* Without the network's document the subnet is guessed from the container's address. */
	if (rc == 0 && kind == CARD_NETWORK && doc_net(doc, net, sizeof(net)) &&
	    ws_inspect(ws, WS_NETWORK, net, &netdoc, &n) < 0)
		netdoc = NULL;
	if (rc == 0)
		rc = ws_adopt_generate(doc, netdoc, kind, text, len);
	free(netdoc);
	free(doc);
	return rc;
}
