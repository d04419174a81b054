/* The words of a pull's, build's or load's progress, as the status file's first line says it
 * (objects.c) and a load's log (image-tar.c): from the counts the driver makes of its stream. */
#include "ws-int.h"

void ws_progress_text(const char *activity, const struct be_progress *p, char *out, size_t len)
{
	if (!activity || !p)
		ws_fmt(out, len, "%s", "");
	else if (p->steps)
		ws_fmt(out, len, "%s step %u/%u", activity, p->step, p->steps);
	else if (p->total > 0) {
		/* Rounded as the MB are, but 100% only once it is all there. */
		long long pct = (p->current * 100 + p->total / 2) / p->total;
		if (pct == 100 && p->current < p->total)
			pct = 99;
		ws_fmt(out, len, "%s %lld%% (%.1f/%.1f MB)", activity, pct,
		       (double)p->current / 1e6, (double)p->total / 1e6);
	} else
		ws_fmt(out, len, "%s", activity);
}
