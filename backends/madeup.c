/* Lines a reconcile made up, remembered so that the event they stand for is not shown again.
 *
 * A reconcile compares a full list with the state and publishes the changes it finds (a
 * create, a start, a destroy) as lines of their own (state-sync.c). The event stream is open
 * meanwhile: after a stream was reopened it even starts from before the list
 * (events-feed.c), so the engine's own event of a change the list already showed may come
 * after the reconcile's line. Such an event, for the same container and action and of a time
 * no later than the list's answer, is the same change: its state is applied as any other, its
 * line is left out. A later event of the same action is a new change and shown.
 *
 * The state thread alone reads and writes the ring (struct workspace: madeup, nmadeup). */
#include <string.h>

#include "ws-int.h"

void ws_madeup_note(struct workspace *ws, const char *id, const char *action, long long engine_ns)
{
	struct ws_madeup *m = &ws->madeup[ws->nmadeup++ % WS_MADEUP];

	ws_fmt(m->id, sizeof(m->id), "%s", id);
	ws_fmt(m->action, sizeof(m->action), "%s", action);
	m->engine_ns = engine_ns;
}

bool ws_madeup_take(struct workspace *ws, const char *id, const char *action, long long time_nano)
{
	for (size_t i = 0; i < WS_MADEUP; i++) {
		struct ws_madeup *m = &ws->madeup[i];
		if (!m->id[0] || strcmp(m->id, id) != 0 || strcmp(m->action, action) != 0)
			continue;
		m->id[0] = '\0'; /* once: a second such event is another change */
		return time_nano && time_nano <= m->engine_ns;
	}
	return false;
}
