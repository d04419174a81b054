/* containers/NAME/wait: a container's exit code once it is not running, as `docker wait`
 * gives it (its default condition, not-running: a container that is not up answers at once).
 * Served from the state, which the events keep current: no engine request while waiting. An
 * engine that stops answering ends the wait with its errno, so that no reader hangs on it. */
#include <errno.h>
#include <string.h>

#include "ws-int.h"

/* One look at the container (slock held): 1 still up, 2 stopped but only listed so far (its
 * exit code is the inspect's), 0 done (*exit_code), -errno. */
static int look_locked(struct workspace *ws, const char *id, bool read, int *exit_code)
{
	const struct ws_sobj *o = ws_store_id(&ws->store[WS_CONTAINER], id);
	if (!o)
		return -ENOENT; /* removed without being seen stopped */
	if (strcmp(o->state, "running") == 0 || strcmp(o->state, "paused") == 0 ||
	    strcmp(o->state, "restarting") == 0)
		return ws->stale ? -ECONNREFUSED : 1;
	if (o->summary && !read)
		return 2;
	*exit_code = o->exit_code;
	return 0;
}

int ws_container_wait(struct workspace *ws, const char *name, int *exit_code,
		      const atomic_bool *stop)
{
	char id[BE_ID_SIZE] = "";
	pthread_mutex_lock(&ws->slock);
	const struct ws_sobj *o = ws_store_name(&ws->store[WS_CONTAINER], name);
	if (o)
		ws_fmt(id, sizeof(id), "%s", o->id);
	pthread_mutex_unlock(&ws->slock);
	if (!id[0])
		return -ENOENT;
	bool read = false;
	for (;;) {
		pthread_mutex_lock(&ws->slock);
		int rc = look_locked(ws, id, read, exit_code);
		unsigned long gen = ws->sgen;
		pthread_mutex_unlock(&ws->slock);
		if (rc <= 0)
			return rc;
		if (rc == 2) {
			/* One read, no lock held; a container gone meanwhile ends it above. */
			int rr = ws_refresh_container(ws, id);
			if (rr < 0 && rr != -ENOENT)
				return rr;
			read = true;
			continue;
		}
		if (stop && atomic_load(stop))
			return -EINTR;
		/* A second at most: the engine going away sets no new generation. */
		ws_state_wait_change(ws, gen, 1000, stop);
	}
}
