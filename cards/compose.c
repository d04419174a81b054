/* A compose file as CUTIP cards (cards/compose.h), by CUTIP's from-compose rules:
 *
 *  - per service: an ImageCard (image: the name without its tag, docker.io/library/ before a
 *    short name; build: context resources/dockerfiles, dockerfile <svc>.dockerfile, for a hand
 *    to put there), a ContainerCard (named container_name or the service; its first network
 *    as networkRef, else network_mode, else bridge), and a Unit;
 *  - per network: a NetworkCard with the subnet and gateway of its IPAM, or a placeholder
 *    subnet 172.20-31.0.0/24 to be checked;
 *  - the Group, named by compose's name:, x-project-name or the file's stem, its units in
 *    depends_on order (declaration order between independent ones), and its workflow.py;
 *  - limits, healthcheck, user and stop as cutipfs's own ContainerCard fields, deploy.replicas
 *    as its replicas;
 *  - environment variables whose names look secret (password, secret, token, api_key,
 *    private_key, passphrase, passwd, pwd) become {{ secrets.<name> }}, to be filled in the
 *    workspace's secrets.yaml.
 *
 * One difference, deliberate: CUTIP's from-compose writes "8080:80" as "8080/tcp": "80", which
 * CUTIP's runtime (docker-py: key the container port, value the host port) applies inverted
 * unless both numbers match. cutipfs applies ports as docker-py does (backends/docker/spec.c),
 * so the card says "80/tcp": "8080": the container's port 80 on the host's 8080, as compose
 * meant. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "compose.h"
#include "ydoc.h"
#include "yemit.h"

/* Where the cards go: a workspace's cards directory, which a mount's cards/ shows. */
#define CARDS "cutip/cards/"

struct conv {
	const char *file;
	struct card_diags *diags;
	struct compose_result *res;
	const struct ynode *networks; /* the top-level networks: mapping, or NULL */
	int errors;
	unsigned subnets;     /* placeholder subnets handed out */
	struct yemit secrets; /* cutip/secrets.yaml: required: {name: value} */
	size_t nsecrets;
	bool secrets_open;
	bool nomem;
};

/* ---- small helpers ---- */

static const char *text_of(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR && n->type != YS_NULL ? n->text : NULL;
}

__attribute__((format(printf, 3, 4))) static void error(struct conv *c, const struct ynode *at,
							const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	card_diag_label(card_diags_add(c->diags, CARD_ERROR, c->file, at ? at->line : 0,
				       at ? at->col : 0, "%s", msg),
			"schema", NULL);
	c->errors++;
}

__attribute__((format(printf, 2, 3))) static void note(struct conv *c, const char *fmt, ...)
{
	struct compose_result *r = c->res;
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	char **v = n < 0 ? NULL : realloc(r->notes, (r->nnotes + 1) * sizeof(*v));
	if (!v) {
		free(n < 0 ? NULL : line);
		c->nomem = true;
		return;
	}
	r->notes = v;
	r->notes[r->nnotes++] = line;
}

static void add_file(struct conv *c, char *path, struct yemit *y)
{
	struct compose_result *r = c->res;
	char *text = NULL;
	size_t len = 0;
	struct compose_file *v = NULL;
	if (!path || !yemit_end(y, &text, &len) ||
	    !(v = realloc(r->files, (r->nfiles + 1) * sizeof(*v)))) {
		free(path);
		free(text);
		c->nomem = true;
		return;
	}
	r->files = v;
	r->files[r->nfiles++] = (struct compose_file){.path = path, .text = text, .len = len};
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, f);
	int n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Names become folders and file names: nothing that leaves its folder. */
static bool good_name(const char *s)
{
	if (!s || !*s || *s == '.' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* ---- the image ---- */

static void image_card(struct conv *c, const char *svc, const struct ynode *s)
{
	struct yemit y;
	const struct ynode *build = ynode_get(s, "build");
	const char *image = text_of(ynode_get(s, "image"));
	if (!yemit_card_begin(&y, "ImageCard", svc)) {
		c->nomem = true;
		return;
	}
	if (build) {
		yemit_kv(&y, "source", "build");
		yemit_kv(&y, "context", "resources/dockerfiles");
		char *df = fmt("%s.dockerfile", svc);
		yemit_kv(&y, "dockerfile", df ? df : "Dockerfile");
		free(df);
		const struct ynode *args = ynode_get(build, "args");
		if (args && args->kind == YNODE_MAP && args->count) {
			yemit_str(&y, "build_args");
			yemit_map(&y);
			for (size_t i = 0; i < args->count; i++)
				yemit_kv(&y, args->keys[i]->text,
					 text_of(args->values[i]) ? text_of(args->values[i]) : "");
			yemit_close_map(&y);
		}
		const char *ctx =
		    text_of(build) ? text_of(build) : text_of(ynode_get(build, "context"));
		const char *file = text_of(ynode_get(build, "dockerfile"));
		note(c,
		     "%s: build: copy %s%s%s to resources/dockerfiles/%s.dockerfile (the build's "
		     "context is "
		     "resources/dockerfiles)",
		     svc, ctx ? ctx : ".", "/", file ? file : "Dockerfile", svc);
		if (image)
			note(c, "%s: image %s is built, not pulled: the card tags it %s:latest",
			     svc, image, svc);
	} else {
		/* The tag is after the last ':' that follows the last '/' (a registry's port is
		 * not a tag). */
		char repo[512], tag[128] = "latest";
		snprintf(repo, sizeof(repo), "%s", image);
		char *at = strchr(repo, '@');
		if (at) {
			note(c, "%s: image %s is pinned by digest: the card names it by tag", svc,
			     image);
			*at = '\0';
		}
		char *slash = strrchr(repo, '/'), *colon = strrchr(repo, ':');
		if (colon && (!slash || colon > slash)) {
			snprintf(tag, sizeof(tag), "%s", colon + 1);
			*colon = '\0';
		}
		char full[600];
		snprintf(full, sizeof(full), "%s%s", strchr(repo, '/') ? "" : "docker.io/library/",
			 repo);
		yemit_kv(&y, "source", "pull");
		yemit_kv(&y, "image", full);
		yemit_kv(&y, "tag", tag);
	}
	yemit_close_map(&y);
	add_file(c, fmt(CARDS "%s/%s.image.yaml", svc, svc), &y);
}

/* ---- the container ---- */

static bool looks_secret(const char *key)
{
	static const char *const words[] = {"password",	   "secret",	 "token",  "api_key",
					    "private_key", "passphrase", "passwd", "pwd"};
	char lower[256];
	size_t i;
	for (i = 0; key[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)key[i]);
	lower[i] = '\0';
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		if (strstr(lower, words[w]))
			return true;
	return false;
}

static void env_item(struct conv *c, struct yemit *y, const char *svc, const char *key,
		     const char *value)
{
	if (!value) {
		note(c,
		     "%s: environment %s takes its value from the shell running compose: left out",
		     svc, key);
		return;
	}
	if (!looks_secret(key)) {
		yemit_kv(y, key, value);
		return;
	}
	char lower[256], ph[300];
	size_t i;
	for (i = 0; key[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)key[i]);
	lower[i] = '\0';
	snprintf(ph, sizeof(ph), "{{ secrets.%s }}", lower);
	yemit_kv(y, key, ph);
	/* The value moves to the workspace's secrets.yaml, out of the cards. */
	if (!c->secrets_open) {
		if (!yemit_begin(&c->secrets)) {
			c->nomem = true;
			return;
		}
		c->secrets_open = true;
		yemit_str(&c->secrets, "required");
		yemit_map(&c->secrets);
	}
	yemit_kv(&c->secrets, lower, value);
	c->nsecrets++;
	if (!*value)
		note(c,
		     "%s: %s is a secret with no value in the compose file: fill in secrets.%s in "
		     "cutip/secrets.yaml",
		     svc, key, lower);
}

typedef void pair_fn(struct conv *c, struct yemit *y, const char *svc, const char *key,
		     const char *value);

/* field: a mapping of KEY: VALUE, or a list of KEY=VALUE, as compose takes either; each pair to
 * fn, the value NULL for a bare KEY (or KEY: with nothing). */
static void pairs(struct conv *c, struct yemit *y, const char *svc, const char *field,
		  const struct ynode *n, pair_fn *fn)
{
	if (!n || n->kind == YNODE_SCALAR || !n->count)
		return;
	yemit_str(y, field);
	yemit_map(y);
	for (size_t i = 0; i < n->count; i++) {
		if (n->kind == YNODE_MAP) {
			fn(c, y, svc, n->keys[i]->text, text_of(n->values[i]));
			continue;
		}
		const char *item = text_of(n->values[i]);
		const char *eq = item ? strchr(item, '=') : NULL;
		char key[256];
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - item) : 255, item ? item : "");
		fn(c, y, svc, key, eq ? eq + 1 : NULL);
	}
	yemit_close_map(y);
}

static void label_item(struct conv *c, struct yemit *y, const char *svc, const char *key,
		       const char *value)
{
	(void)c;
	(void)svc;
	yemit_kv(y, key, value ? value : "");
}

/* One "HOST:CONTAINER[/PROTO]" (or "IP:HOST:CONTAINER") as "CONTAINER/PROTO": "HOST". */
static void port_item(struct conv *c, struct yemit *y, const char *svc, const char *spec)
{
	char buf[128], *parts[3];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	char *proto = strchr(buf, '/');
	if (proto)
		*proto++ = '\0';
	for (char *p = buf, *save = NULL; n < 3 && (p = strtok_r(n ? NULL : p, ":", &save)); n++)
		parts[n] = p;
	if (n < 2 || strchr(parts[n - 1], '-')) {
		note(c, "%s: port %s: %s, left out", svc, spec,
		     n < 2 ? "no host port (the engine would pick one)" : "a range");
		return;
	}
	if (n == 3)
		note(c, "%s: port %s: bound to all addresses, not only %s", svc, spec, parts[0]);
	char key[64];
	snprintf(key, sizeof(key), "%s/%s", parts[n - 1], proto ? proto : "tcp");
	yemit_kv(y, key, parts[n - 2]);
}

static void ports(struct conv *c, struct yemit *y, const char *svc, const struct ynode *list)
{
	if (!list || list->kind != YNODE_SEQ || !list->count)
		return;
	yemit_str(y, "ports");
	yemit_map(y);
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *p = list->values[i];
		if (p->kind == YNODE_MAP) {
			const char *target = text_of(ynode_get(p, "target"));
			const char *published = text_of(ynode_get(p, "published"));
			const char *proto = text_of(ynode_get(p, "protocol"));
			char spec[128];
			snprintf(spec, sizeof(spec), "%s%s%s/%s", published ? published : "",
				 published ? ":" : "", target ? target : "?",
				 proto ? proto : "tcp");
			port_item(c, y, svc, spec);
		} else if (text_of(p)) {
			port_item(c, y, svc, text_of(p));
		}
	}
	yemit_close_map(y);
}

struct mounts {
	const char *source[64], *target[64];
	bool bind[64], ro[64];
	size_t n;
	const char *vname[64], *vpath[64]; /* named volumes, read-write: spec.volumes */
	size_t nv;
};

/* One service volume, short ("SRC:DST[:MODE]") or long ({type, source, target, read_only}). */
static void volume_item(struct conv *c, struct mounts *m, const char *svc, const struct ynode *v,
			char *buf, size_t len)
{
	const char *src, *dst;
	bool ro = false;
	if (v->kind == YNODE_MAP) {
		src = text_of(ynode_get(v, "source"));
		dst = text_of(ynode_get(v, "target"));
		const struct ynode *r = ynode_get(v, "read_only");
		ro = r && r->type == YS_BOOL && text_of(r) && strchr("yYtT", text_of(r)[0]);
	} else {
		snprintf(buf, len, "%s", text_of(v) ? text_of(v) : "");
		char *save = NULL;
		src = strtok_r(buf, ":", &save);
		dst = strtok_r(NULL, ":", &save);
		const char *mode = strtok_r(NULL, ":", &save);
		ro = mode && (strcmp(mode, "ro") == 0 || strncmp(mode, "ro,", 3) == 0 ||
			      strstr(mode, ",ro"));
	}
	if (!src || !dst) {
		note(c, "%s: volume %s: an anonymous volume, left out", svc,
		     src ? src : "(no source)");
		return;
	}
	bool bind = src[0] == '/' || src[0] == '.' || src[0] == '~';
	if (src[0] == '~')
		note(c, "%s: bind source %s: cards do not expand ~", svc, src);
	if (!bind && !ro && m->nv < 64) {
		m->vname[m->nv] = src;
		m->vpath[m->nv++] = dst;
		return;
	}
	if (m->n == 64)
		return;
	if (bind && strncmp(src, "./", 2) == 0)
		src += 2; /* relative to the workspace root, as compose was to its folder */
	m->source[m->n] = src;
	m->target[m->n] = dst;
	m->bind[m->n] = bind;
	m->ro[m->n++] = ro;
}

static void volumes(struct conv *c, struct yemit *y, const char *svc, const struct ynode *list)
{
	if (!list || list->kind != YNODE_SEQ || !list->count)
		return;
	struct mounts m = {0};
	char bufs[64][512];
	for (size_t i = 0; i < list->count && i < 64; i++)
		volume_item(c, &m, svc, list->values[i], bufs[i], sizeof(bufs[i]));
	if (m.n) {
		yemit_str(y, "mounts");
		yemit_seq(y);
		for (size_t i = 0; i < m.n; i++) {
			yemit_map(y);
			yemit_kv(y, "type", m.bind[i] ? "bind" : "volume");
			yemit_kv(y, "source", m.source[i]);
			yemit_kv(y, "target", m.target[i]);
			if (m.ro[i]) {
				yemit_str(y, "read_only");
				yemit_plain(y, "true");
			}
			yemit_close_map(y);
		}
		yemit_close_seq(y);
	}
	if (m.nv) {
		yemit_str(y, "volumes");
		yemit_map(y);
		for (size_t i = 0; i < m.nv; i++)
			yemit_kv(y, m.vname[i], m.vpath[i]);
		yemit_close_map(y);
	}
}

static void string_list(struct yemit *y, const char *key, const struct ynode *list)
{
	if (!list || list->kind != YNODE_SEQ || !list->count)
		return;
	yemit_str(y, key);
	yemit_seq(y);
	for (size_t i = 0; i < list->count; i++)
		yemit_str(y, text_of(list->values[i]) ? text_of(list->values[i]) : "");
	yemit_close_seq(y);
}

/* The command: a string as it is, a list joined so that shlex.split gives it back. */
static void command(struct conv *c, struct yemit *y, const struct ynode *cmd)
{
	if (text_of(cmd)) {
		yemit_kv(y, "command", text_of(cmd));
		return;
	}
	if (!cmd || cmd->kind != YNODE_SEQ || !cmd->count)
		return;
	char *joined = NULL;
	for (size_t i = 0; i < cmd->count; i++) {
		char *q = card_shlex_quote(text_of(cmd->values[i]) ? text_of(cmd->values[i]) : "");
		char *j = q ? fmt("%s%s%s", joined ? joined : "", joined ? " " : "", q) : NULL;
		free(q);
		free(joined);
		if (!(joined = j)) {
			c->nomem = true;
			return;
		}
	}
	yemit_kv(y, "command", joined);
	free(joined);
}

/* The network a container joins: its first compose network, else its network_mode. */
static void network(struct conv *c, struct yemit *y, const char *svc, const struct ynode *s)
{
	const struct ynode *nets = ynode_get(s, "networks");
	const char *mode = text_of(ynode_get(s, "network_mode"));
	const char *first = NULL;
	if (nets && nets->count)
		first = nets->kind == YNODE_MAP ? nets->keys[0]->text : text_of(nets->values[0]);
	if (first) {
		if (nets->count > 1)
			note(c, "%s: on %zu networks: the card joins the first, %s", svc,
			     nets->count, first);
		if (!c->networks || !ynode_get(c->networks, first))
			error(c, nets, "services.%s.networks: %s is not in the file's networks",
			      svc, first);
		yemit_ref(y, "networkRef", "networks", first);
		return;
	}
	if (mode && (strncmp(mode, "service:", 8) == 0 || strncmp(mode, "container:", 10) == 0)) {
		note(c,
		     "%s: network_mode %s: a card cannot share another's network; bridge instead",
		     svc, mode);
		mode = NULL;
	}
	yemit_kv(y, "network_mode", mode ? mode : "bridge");
}

static void flag(struct yemit *y, const char *key, const struct ynode *n)
{
	if (n && n->type == YS_BOOL && text_of(n)) {
		yemit_str(y, key);
		yemit_plain(y, strchr("yYtT", text_of(n)[0]) ? "true" : "false");
	}
}

/* compose's limits as cutipfs's: mem_limit, memswap_limit, cpus and pids_limit, else
 * deploy.resources.limits (memory, cpus, pids); the values as compose writes them (512m, 0.5),
 * which are the card's units too. */
static void resources(struct yemit *y, const struct ynode *s)
{
	const struct ynode *lim =
	    ynode_get(ynode_get(ynode_get(s, "deploy"), "resources"), "limits");
	const char *mem = text_of(ynode_get(s, "mem_limit"));
	const char *swap = text_of(ynode_get(s, "memswap_limit"));
	const char *cpus = text_of(ynode_get(s, "cpus"));
	const char *pids = text_of(ynode_get(s, "pids_limit"));
	mem = mem ? mem : text_of(ynode_get(lim, "memory"));
	cpus = cpus ? cpus : text_of(ynode_get(lim, "cpus"));
	pids = pids ? pids : text_of(ynode_get(lim, "pids"));
	if (!mem && !swap && !cpus && !pids)
		return;
	yemit_str(y, "resources");
	yemit_map(y);
	if (mem)
		yemit_kv(y, "memory", mem);
	if (swap)
		yemit_kv(y, "memory_swap", swap);
	if (cpus)
		yemit_kv(y, "cpus", cpus);
	if (pids)
		yemit_kv(y, "pids", pids);
	yemit_close_map(y);
}

static bool truthy(const struct ynode *n)
{
	return n && n->type == YS_BOOL && text_of(n) && strchr("yYtT", text_of(n)[0]);
}

/* compose's healthcheck as the card's: the same test (a string runs in a shell, a list is
 * CMD... or CMD-SHELL...), durations and retries; disable: true is [NONE]. One without a test
 * keeps the image's, which a card cannot say. */
static void healthcheck(struct conv *c, struct yemit *y, const char *svc, const struct ynode *hc)
{
	const struct ynode *test = ynode_get(hc, "test");
	if (!hc)
		return;
	if (!truthy(ynode_get(hc, "disable")) && !text_of(test) &&
	    !(test && test->kind == YNODE_SEQ && test->count)) {
		note(c, "%s: healthcheck without a test (the image's): left out", svc);
		return;
	}
	yemit_str(y, "healthcheck");
	yemit_map(y);
	yemit_str(y, "test");
	if (truthy(ynode_get(hc, "disable"))) {
		yemit_seq(y);
		yemit_str(y, "NONE");
		yemit_close_seq(y);
	} else if (text_of(test)) {
		yemit_str(y, text_of(test));
	} else {
		yemit_seq(y);
		for (size_t i = 0; i < test->count; i++)
			yemit_str(y, text_of(test->values[i]) ? text_of(test->values[i]) : "");
		yemit_close_seq(y);
	}
	static const char *const keys[] = {"interval", "timeout", "retries", "start_period"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = text_of(ynode_get(hc, keys[i]));
		if (v)
			yemit_kv(y, keys[i], v);
	}
	yemit_close_map(y);
}

/* user, stop_signal, stop_grace_period (as whole seconds of stop_timeout), deploy.replicas. */
static void process(struct conv *c, struct yemit *y, const char *svc, const struct ynode *s)
{
	const char *v;
	if ((v = text_of(ynode_get(s, "user"))))
		yemit_kv(y, "user", v);
	if ((v = text_of(ynode_get(s, "stop_signal"))))
		yemit_kv(y, "stop_signal", v);
	if ((v = text_of(ynode_get(s, "stop_grace_period")))) {
		long long ns = 0;
		if (card_parse_duration(v, &ns) == 0) {
			char secs[32];
			snprintf(secs, sizeof(secs), "%lld", (ns + 999999999) / 1000000000);
			yemit_str(y, "stop_timeout");
			yemit_plain(y, secs);
		} else {
			note(c, "%s: stop_grace_period %s is not a duration: left out", svc, v);
		}
	}
	if ((v = text_of(ynode_get(ynode_get(s, "deploy"), "replicas")))) {
		yemit_str(y, "replicas");
		yemit_plain(y, v);
	}
	const struct ynode *deploy = ynode_get(s, "deploy");
	for (size_t i = 0; deploy && deploy->kind == YNODE_MAP && i < deploy->count; i++)
		if (strcmp(deploy->keys[i]->text, "replicas") != 0 &&
		    strcmp(deploy->keys[i]->text, "resources") != 0)
			note(c, "%s: deploy.%s: no card field for it, left out", svc,
			     deploy->keys[i]->text);
}

/* What a card has no field for, said once per service. */
static void unsupported(struct conv *c, const char *svc, const struct ynode *s)
{
	static const char *const known[] = {
	    "image",	     "build",	     "container_name",	  "command",
	    "environment",   "ports",	     "volumes",		  "networks",
	    "network_mode",  "hostname",     "working_dir",	  "privileged",
	    "cap_add",	     "security_opt", "restart",		  "labels",
	    "depends_on",    "expose",	     "entrypoint",	  "healthcheck",
	    "user",	     "stop_signal",  "stop_grace_period", "mem_limit",
	    "memswap_limit", "cpus",	     "pids_limit",	  "deploy"};
	for (size_t i = 0; i < s->count; i++) {
		const char *k = s->keys[i]->text;
		bool ok = false;
		for (size_t j = 0; j < sizeof(known) / sizeof(known[0]) && !ok; j++)
			ok = strcmp(k, known[j]) == 0;
		if (!ok)
			note(c, "%s: %s: no card field for it, left out", svc, k);
	}
}

static void container_card(struct conv *c, const char *svc, const char *cname,
			   const struct ynode *s)
{
	struct yemit y;
	if (!yemit_card_begin(&y, "ContainerCard", cname)) {
		c->nomem = true;
		return;
	}
	yemit_ref(&y, "imageRef", "images", svc);
	network(c, &y, svc, s);
	command(c, &y, ynode_get(s, "command"));
	const char *v;
	if ((v = text_of(ynode_get(s, "hostname"))))
		yemit_kv(&y, "hostname", v);
	if ((v = text_of(ynode_get(s, "working_dir"))))
		yemit_kv(&y, "workdir", v);
	flag(&y, "privileged", ynode_get(s, "privileged"));
	string_list(&y, "cap_add", ynode_get(s, "cap_add"));
	string_list(&y, "security_opts", ynode_get(s, "security_opt"));
	ports(c, &y, svc, ynode_get(s, "ports"));
	pairs(c, &y, svc, "environment", ynode_get(s, "environment"), env_item);
	volumes(c, &y, svc, ynode_get(s, "volumes"));
	pairs(c, &y, svc, "labels", ynode_get(s, "labels"), label_item);
	if ((v = text_of(ynode_get(s, "restart"))))
		yemit_kv(&y, "restart_policy", strcmp(v, "unless-stopped") == 0 ? "always" : v);
	resources(&y, s);
	healthcheck(c, &y, svc, ynode_get(s, "healthcheck"));
	process(c, &y, svc, s);
	yemit_close_map(&y);
	add_file(c, fmt(CARDS "%s/%s.container.yaml", svc, svc), &y);
	unsupported(c, svc, s);
}

static void unit_card(struct conv *c, const char *svc, const char *cname)
{
	struct yemit y;
	if (!yemit_card_begin(&y, "Unit", svc)) {
		c->nomem = true;
		return;
	}
	yemit_ref(&y, "containerRef", "containers", cname);
	yemit_close_map(&y);
	add_file(c, fmt(CARDS "%s/%s.unit.yaml", svc, svc), &y);
}

/* ---- networks ---- */

static void network_card(struct conv *c, const char *name, const struct ynode *n)
{
	const struct ynode *ext = ynode_get(n, "external");
	if (ext && text_of(ext) && strchr("yYtT", text_of(ext)[0])) {
		note(c, "network %s is external: no card made; it must exist in the engine", name);
		return;
	}
	const struct ynode *config = ynode_get(ynode_get(n, "ipam"), "config");
	const struct ynode *first =
	    config && config->kind == YNODE_SEQ && config->count ? config->values[0] : NULL;
	const char *subnet = text_of(ynode_get(first, "subnet"));
	const char *gateway = text_of(ynode_get(first, "gateway"));
	const char *driver = text_of(ynode_get(n, "driver"));
	char placeholder[32];
	if (!subnet) {
		if (c->subnets >= 12) {
			error(c, n,
			      "networks.%s: no ipam subnet, and the placeholders 172.20-31.0.0/24 "
			      "are all taken",
			      name);
			return;
		}
		snprintf(placeholder, sizeof(placeholder), "172.%u.0.0/24", 20 + c->subnets++);
		subnet = placeholder;
		note(
		    c,
		    "network %s: no ipam subnet in the file: %s is a placeholder, check it is free",
		    name, subnet);
	}
	struct yemit y;
	if (!yemit_card_begin(&y, "NetworkCard", name)) {
		c->nomem = true;
		return;
	}
	yemit_kv(&y, "driver", driver ? driver : "bridge");
	yemit_kv(&y, "subnet", subnet);
	if (gateway)
		yemit_kv(&y, "gateway", gateway);
	yemit_close_map(&y);
	add_file(c, fmt(CARDS "%s/%s.network.yaml", name, name), &y);
}

/* ---- the group ---- */

/* Index of the service called name, or -1. */
static long service_index(const struct ynode *services, const char *name)
{
	for (size_t i = 0; i < services->count; i++)
		if (strcmp(services->keys[i]->text, name) == 0)
			return (long)i;
	return -1;
}

/* The services in depends_on order: each after what it depends on, declaration order among
 * those ready. order[] gets indexes; false on an unknown service or a cycle (reported). */
static bool dependency_order(struct conv *c, const struct ynode *services, size_t *order)
{
	size_t n = services->count, done = 0;
	bool *placed = calloc(n ? n : 1, sizeof(*placed));
	if (!placed) {
		c->nomem = true;
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		const struct ynode *deps = ynode_get(services->values[i], "depends_on");
		for (size_t d = 0; deps && d < deps->count && ok; d++) {
			const char *dep = deps->kind == YNODE_MAP ? deps->keys[d]->text
								  : text_of(deps->values[d]);
			if (!dep || service_index(services, dep) < 0) {
				error(c, deps, "services.%s.depends_on: no service %s",
				      services->keys[i]->text, dep ? dep : "(not a name)");
				ok = false;
			}
			const char *cond = deps->kind == YNODE_MAP
					       ? text_of(ynode_get(deps->values[d], "condition"))
					       : NULL;
			if (ok && cond && strcmp(cond, "service_started") != 0)
				note(c,
				     "%s: depends on %s with condition %s: the group only orders "
				     "the starts",
				     services->keys[i]->text, dep, cond);
		}
	}
	while (ok && done < n) {
		bool progress = false;
		for (size_t i = 0; i < n; i++) {
			if (placed[i])
				continue;
			const struct ynode *deps = ynode_get(services->values[i], "depends_on");
			bool ready = true;
			for (size_t d = 0; deps && d < deps->count && ready; d++) {
				const char *dep = deps->kind == YNODE_MAP
						      ? deps->keys[d]->text
						      : text_of(deps->values[d]);
				ready = placed[service_index(services, dep)];
			}
			if (ready) {
				placed[i] = true;
				order[done++] = i;
				progress = true;
				break; /* start again from the first: declaration order */
			}
		}
		if (!progress) {
			error(c, services, "services: depends_on goes round in a circle");
			ok = false;
		}
	}
	free(placed);
	return ok;
}

static void group_files(struct conv *c, const char *group, const struct ynode *services,
			const size_t *order)
{
	struct yemit y;
	if (!yemit_card_begin(&y, "Group", group)) {
		c->nomem = true;
		return;
	}
	yemit_str(&y, "units");
	yemit_seq(&y);
	for (size_t i = 0; i < services->count; i++) {
		char r[300];
		snprintf(r, sizeof(r), "units/%s", services->keys[order[i]]->text);
		yemit_map(&y);
		yemit_kv(&y, "ref", r);
		yemit_close_map(&y);
	}
	yemit_close_seq(&y);
	yemit_kv(&y, "workflow", "workflow.py");
	yemit_close_map(&y);
	add_file(c, fmt(CARDS "%s/%s.group.yaml", group, group), &y);

	/* CUTIP imports it and calls main(ctx); cutipfs does not run it. */
	static const char workflow[] =
	    "# The group's workflow, as CUTIP runs it: main(ctx) after the group's containers are\n"
	    "# up. Written by cutipfs from-compose; cutipfs itself does not run it.\n"
	    "def main(ctx):\n"
	    "    pass\n";
	struct compose_result *r = c->res;
	struct compose_file *v = realloc(r->files, (r->nfiles + 1) * sizeof(*v));
	char *path = fmt(CARDS "%s/workflow.py", group), *text = strdup(workflow);
	if (!v || !path || !text) {
		if (v)
			r->files = v;
		free(path);
		free(text);
		c->nomem = true;
		return;
	}
	r->files = v;
	r->files[r->nfiles++] =
	    (struct compose_file){.path = path, .text = text, .len = sizeof(workflow) - 1};
}

/* compose's name:, x-project-name, or the file's stem. */
static char *group_name(const struct ynode *root, const char *path)
{
	const char *name = text_of(ynode_get(root, "name"));
	if (!name)
		name = text_of(ynode_get(root, "x-project-name"));
	if (name)
		return strdup(name);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	return strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* cutip.yaml, which anchors the workspace (CUTIP's project file), and the secrets. */
static void workspace_files(struct conv *c)
{
	struct yemit y;
	if (!yemit_begin(&y)) {
		c->nomem = true;
		return;
	}
	yemit_kv(&y, "apiVersion", "cutip/v1");
	yemit_str(&y, "project");
	yemit_map(&y);
	yemit_kv(&y, "name", c->res->group);
	yemit_kv(&y, "version", "0.1.0");
	yemit_kv(&y, "backend", "docker");
	yemit_close_map(&y);
	add_file(c, strdup("cutip.yaml"), &y);
	if (c->secrets_open) {
		yemit_close_map(&c->secrets);
		c->secrets_open = false;
		add_file(c, strdup("cutip/secrets.yaml"), &c->secrets);
	}
}

/* Compose interpolates $VAR and ${VAR} from the environment it runs in and writes a literal $
 * as $$; a card is taken as it is. So $$ becomes $ here, in every string of the file, and an
 * interpolation is left as written and listed (its value is the shell's, not the file's). */
static void interpolation(struct conv *c, struct ynode *n)
{
	/* A node an alias shares would be seen once per alias: left as written. */
	if (!n || n->refs > 1)
		return;
	if (n->kind != YNODE_SCALAR) {
		for (size_t i = 0; i < n->count; i++) {
			if (n->keys)
				interpolation(c, n->keys[i]);
			interpolation(c, n->values[i]);
		}
		return;
	}
	if (!strchr(n->text, '$'))
		return;
	for (const char *r = n->text; *r; r++) {
		if (r[0] == '$' && r[1] == '$') {
			r++;
		} else if (r[0] == '$' &&
			   (r[1] == '{' || isalpha((unsigned char)r[1]) || r[1] == '_')) {
			note(c,
			     "%s: compose fills this in from its environment; the card keeps it as "
			     "written",
			     n->text);
			break;
		}
	}
	char *w = n->text;
	for (const char *r = n->text; *r; r++) {
		*w++ = *r;
		if (r[0] == '$' && r[1] == '$')
			r++;
	}
	*w = '\0';
	n->len = (size_t)(w - n->text);
}

/* ---- the whole file ---- */

static void convert(struct conv *c, const struct ynode *root, const char *path)
{
	const struct ynode *services = ynode_get(root, "services");
	if (!services || services->kind != YNODE_MAP || !services->count) {
		error(c, services ? services : root, "no services: not a compose file");
		return;
	}
	c->networks = ynode_get(root, "networks");
	if (c->networks && c->networks->kind != YNODE_MAP)
		c->networks = NULL;
	c->res->group = group_name(root, path);
	if (!good_name(c->res->group)) {
		error(c, root, "the group's name '%s' is not a file name", c->res->group);
		return;
	}
	for (size_t i = 0; i < services->count; i++) {
		const char *svc = services->keys[i]->text;
		const struct ynode *s = services->values[i];
		const char *cname = text_of(ynode_get(s, "container_name"));
		if (!good_name(svc) || s->kind != YNODE_MAP) {
			error(c, s, "services.%s: %s", svc,
			      s->kind != YNODE_MAP ? "not a mapping" : "not a file name");
			continue;
		}
		if (!text_of(ynode_get(s, "image")) && !ynode_get(s, "build")) {
			error(c, s, "services.%s: neither image nor build", svc);
			continue;
		}
		if (cname && !good_name(cname)) {
			error(c, s, "services.%s.container_name: '%s' is not a name", svc, cname);
			continue;
		}
		image_card(c, svc, s);
		container_card(c, svc, cname ? cname : svc, s);
		unit_card(c, svc, cname ? cname : svc);
		if (ynode_get(s, "entrypoint"))
			note(c, "%s: entrypoint: a card has only the command; fold it in by hand",
			     svc);
	}
	for (size_t i = 0; c->networks && i < c->networks->count; i++) {
		const char *net = c->networks->keys[i]->text;
		if (!good_name(net)) {
			error(c, c->networks->values[i], "networks.%s: not a file name", net);
			continue;
		}
		network_card(c, net, c->networks->values[i]);
	}
	const struct ynode *vols = ynode_get(root, "volumes");
	for (size_t i = 0; vols && vols->kind == YNODE_MAP && i < vols->count; i++)
		if (ynode_get(vols->values[i], "external"))
			note(c, "volume %s is external: it must exist in the engine",
			     vols->keys[i]->text);
	size_t *order = calloc(services->count, sizeof(*order));
	if (!order) {
		c->nomem = true;
		return;
	}
	if (dependency_order(c, services, order))
		group_files(c, c->res->group, services, order);
	free(order);
	workspace_files(c);
}

void compose_result_free(struct compose_result *res)
{
	for (size_t i = 0; i < res->nfiles; i++) {
		free(res->files[i].path);
		free(res->files[i].text);
	}
	for (size_t i = 0; i < res->nnotes; i++)
		free(res->notes[i]);
	free(res->files);
	free(res->notes);
	free(res->group);
	memset(res, 0, sizeof(*res));
}

int compose_convert(const char *path, struct compose_result *res, struct card_diags *diags)
{
	struct ynode *root = NULL;
	memset(res, 0, sizeof(*res));
	if (ydoc_load_file(path, &root, diags) < 0)
		return -1;
	struct conv c = {.file = path, .diags = diags, .res = res};
	interpolation(&c, root);
	if (root->kind != YNODE_MAP)
		error(&c, root, "not a compose file: the document is %s", ynode_describe(root));
	else
		convert(&c, root, path);
	ynode_free(root);
	if (c.secrets_open) { /* an error came first */
		char *text = NULL;
		size_t len = 0;
		if (yemit_end(&c.secrets, &text, &len))
			free(text);
	}
	if (c.nomem)
		card_diags_add(diags, CARD_ERROR, path, 0, 0, "out of memory");
	if (c.errors || c.nomem) {
		compose_result_free(res);
		return -1;
	}
	return 0;
}
