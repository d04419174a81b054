/* Helpers of the backend interface itself (backend.h), shared by every driver and the core:
 * neutral objects, image references, capabilities. Below the drivers: it calls none of them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "backend.h"

void be_obj_free(struct be_obj *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nlabels; i++) {
		free(o->labels[i].key);
		free(o->labels[i].value);
	}
	free(o->labels);
	free(o->tags);
	free(o->nets);
	free(o->subnets);
	free(o->details);
	free(o->tasks);
	free(o->inspect);
	free(o);
}

void be_objv_free(struct be_obj **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		be_obj_free(v[i]);
	free(v);
}

const char *be_obj_label(const struct be_obj *o, const char *key)
{
	for (size_t i = 0; o && i < o->nlabels; i++)
		if (o->labels[i].key && strcmp(o->labels[i].key, key) == 0)
			return o->labels[i].value;
	return NULL;
}

const char *be_image_short(const char *ref)
{
	static const char *const prefixes[] = {"docker.io/library/", "localhost/", "docker.io/"};

	for (size_t i = 0; ref && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(ref, prefixes[i], strlen(prefixes[i])) == 0)
			return ref + strlen(prefixes[i]);
	return ref ? ref : "";
}

char *be_json_pretty(const char *json)
{
	cJSON *doc = cJSON_Parse(json);
	char *s = doc ? cJSON_Print(doc) : NULL;

	cJSON_Delete(doc);
	return s;
}

void backend_caps_text(unsigned caps, char *buf, size_t len)
{
	static const struct {
		unsigned cap;
		const char *word;
	} words[] = {
	    {BE_CAP_BUILD, "build"},	 {BE_CAP_PAUSE, "pause"},   {BE_CAP_SUBNETS, "subnets"},
	    {BE_CAP_VOLUMES, "volumes"}, {BE_CAP_REPLAY, "replay"}, {BE_CAP_SERVICES, "services"},
	    {BE_CAP_HEALTH, "health"},
	};
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(caps & words[i].cap) || used >= len)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", words[i].word);
		used += n > 0 ? (size_t)n : 0;
	}
	if (!used && len)
		snprintf(buf, len, "none");
}

int backend_unsupported(const struct backend *b, const char *what, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "the %s engine kind cannot do %s", b->ops->name, what);
	return -EOPNOTSUPP;
}

long long be_time_ns(const char *s)
{
	struct tm tm = {0};
	const char *p = s && *s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	long long ns = 0;
	int digits = 0;

	if (!p)
		return -1;
	if (tm.tm_year < 70)
		return 0;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				ns = ns * 10 + (*p - '0');
	for (; digits > 0 && digits < 9; digits++)
		ns *= 10;
	time_t secs = timegm(&tm);
	/* Nanoseconds since 1970 in a long long end in the year 2262: later is garbage too. */
	if (secs > (LLONG_MAX - ns) / 1000000000LL)
		return -1;
	return (long long)secs * 1000000000LL + ns;
}

long long be_json_int(const struct cJSON *v)
{
	/* -2^63 and 2^63 are exact doubles; NaN fails both comparisons. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9223372036854775808.0) ||
	    !(v->valuedouble < 9223372036854775808.0))
		return 0;
	return (long long)v->valuedouble;
}
