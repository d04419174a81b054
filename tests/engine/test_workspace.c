/* The workspace against a real engine (CUTIPFS_TEST_ENGINE, default unix:///run/docker.sock):
 * cards committed, replaced, refused, pending, renamed the way editors do, removed; recovery at
 * open; a dead engine; builds. Every test has its own temporary workspace; whatever it made is
 * removed by label (cutipfs.workspace=<root>) and by name, even when it failed half-way. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h" /* the independent witness: the engine client itself */
#include "workspace.h"

/* Stops within a second of SIGTERM (busybox sleep as PID 1 would ignore it for 10 s). */
#define LOOP(word) "sh -c 'trap \\\"exit 0\\\" TERM; while true; do echo " word "; sleep 1; done'"

struct fx {
	struct engine *e;     /* the witness: asked directly, never through the workspace */
	struct backend *be;   /* what the workspace drives */
	struct workspace *ws;
	char root[128];
	char pfx[32]; /* "cfw<pid>", the start of every name a test makes */
};

static const char *engine_url(void)
{
	const char *u = getenv("CUTIPFS_TEST_ENGINE");
	return u && *u ? u : "unix:///run/docker.sock";
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "";
}

/* ---- cleanup ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static bool named_ours(const struct fx *f, const char *name)
{
	if (*name == '/')
		name++;
	return strncmp(name, f->pfx, strlen(f->pfx)) == 0;
}

/* Everything this test's workspace made (label) or this run named (prefix). */
static void sweep(struct fx *f)
{
	char label[300];
	cJSON *list = NULL;
	const cJSON *it;

	snprintf(label, sizeof(label), "%s=%s", WS_LABEL_WORKSPACE, f->root);
	if (engine_container_list(f->e, NULL, &list, NULL, 0) == 0) {
		cJSON_ArrayForEach(it, list)
		{
			const cJSON *names = cJSON_GetObjectItemCaseSensitive(it, "Names");
			const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(names, 0));
			if (name && named_ours(f, name))
				engine_container_remove(f->e, jstr(it, "Id"), true, true, NULL, 0);
		}
		cJSON_Delete(list);
	}
	if (engine_network_list(f->e, NULL, &list, NULL, 0) == 0) {
		cJSON_ArrayForEach(it, list)
		{
			if (named_ours(f, jstr(it, "Name")))
				engine_network_remove(f->e, jstr(it, "Name"), NULL, 0);
		}
		cJSON_Delete(list);
	}
	if (engine_volume_list(f->e, label, &list, NULL, 0) == 0) {
		cJSON_ArrayForEach(it, list)
		{
			engine_volume_remove(f->e, jstr(it, "Name"), true, NULL, 0);
		}
		cJSON_Delete(list);
	}
	if (engine_request(f->e, "GET", "/images/json", NULL, &list, NULL, 0) == 0) {
		cJSON_ArrayForEach(it, list)
		{
			/* Builds left unnamed (a failed test's), by the workspace label. */
			const cJSON *labels = cJSON_GetObjectItemCaseSensitive(it, "Labels");
			if (strcmp(jstr(labels, WS_LABEL_WORKSPACE), f->root) == 0)
				engine_image_remove(f->e, jstr(it, "Id"), true, NULL, 0);
			const cJSON *tag;
			cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(it, "RepoTags"))
			{
				const char *t = cJSON_GetStringValue(tag);
				const char *slash = t ? strrchr(t, '/') : NULL;
				if (t && named_ours(f, slash ? slash + 1 : t))
					engine_image_remove(f->e, t, true, NULL, 0);
			}
		}
		cJSON_Delete(list);
	}
}

static int group_setup(void **state)
{
	static struct fx f;
	char err[256];

	snprintf(f.pfx, sizeof(f.pfx), "cfw%ld", (long)getpid());
	struct be_open bo = {.engine = engine_url()};
	if (engine_open(engine_url(), NULL, &f.e, err, sizeof(err)) < 0 ||
	    engine_ping(f.e, err, sizeof(err)) < 0 ||
	    backend_open(NULL, &bo, &f.be, err, sizeof(err)) < 0) {
		fprintf(stderr, "# engine %s: %s\n", engine_url(), err);
		return -1;
	}
	*state = &f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;
	backend_close(f->be);
	engine_close(f->e);
	return 0;
}

static void open_ws(struct fx *f)
{
	char err[256] = "";
	assert_int_equal(ws_open(f->root, f->be, &f->ws, err, sizeof(err)), 0);
	assert_int_equal(ws_settle(f->ws, 120000), 0);
}

static void close_ws(struct fx *f)
{
	ws_close(f->ws);
	f->ws = NULL;
}

static int setup(void **state)
{
	struct fx *f = *state;
	char *tmp;

	snprintf(f->root, sizeof(f->root), "/tmp/cutipfs-ws-XXXXXX");
	tmp = mkdtemp(f->root);
	if (!tmp)
		return -1;
	/* The workspace label is the resolved root. */
	char *real = realpath(f->root, NULL);
	snprintf(f->root, sizeof(f->root), "%s", real);
	free(real);
	open_ws(f);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->ws)
		close_ws(f);
	sweep(f);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- cards ---- */

static void write_file(struct fx *f, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cutip/cards/%s", f->root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0755); /* one level is all the tests use */
	*slash = '/';
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* As the mount does: the file is written, then committed. */
static int commit(struct fx *f, const char *rel, const char *text)
{
	write_file(f, rel, text);
	/* As `cp card; sync card`: the commit returns before a container's start is done, the
	 * card's result (fsync) tells how it went. */
	int rc = ws_commit(f->ws, rel, text, strlen(text));
	if (rc == 0)
		rc = ws_card_result(f->ws, rel);
	if (rc < 0 && getenv("CUTIPFS_TEST_VERBOSE")) {
		char *log = NULL;
		size_t len;
		ws_errors_render(f->ws, &log, &len);
		fprintf(stderr, "# commit %s: %d; errors log:\n%s", rel, rc, log);
		free(log);
	}
	return rc;
}

static int unlink_card(struct fx *f, const char *rel)
{
	char path[512];
	int rc = ws_remove(f->ws, rel);
	snprintf(path, sizeof(path), "%s/cutip/cards/%s", f->root, rel);
	if (rc == 0)
		unlink(path);
	return rc;
}

static void image_card(struct fx *f, char *buf, size_t len, const char *img)
{
	snprintf(buf, len,
		 "apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: %s-%s\nspec:\n"
		 "  source: pull\n  image: cutipfs-busybox\n  tag: latest\n",
		 f->pfx, img);
}

/* extra: more spec lines ("" for none). */
static void container_card(struct fx *f, char *buf, size_t len, const char *name, const char *img,
			   const char *word, const char *extra)
{
	snprintf(
	    buf, len,
	    "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata:\n  name: %s-%s\nspec:\n"
	    "  imageRef: {ref: images/%s-%s}\n  command: \"" LOOP("%s") "\"\n"
									"  labels: {team: qa}\n%s",
	    f->pfx, name, f->pfx, img, word, extra);
}

static void full(struct fx *f, char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s-%s", f->pfx, name);
}

/* Inspect of a container by name: its id and state; NULL doc when absent. */
static cJSON *ctr(struct fx *f, const char *name)
{
	char n[128];
	cJSON *doc = NULL;
	full(f, n, sizeof(n), name);
	if (engine_container_inspect(f->e, n, &doc, NULL, 0) < 0)
		return NULL;
	return doc;
}

static bool exists(struct fx *f, const char *name)
{
	cJSON *doc = ctr(f, name);
	cJSON_Delete(doc);
	return doc != NULL;
}

static void ctr_id(struct fx *f, const char *name, char *id, size_t len)
{
	cJSON *doc = ctr(f, name);
	assert_non_null(doc);
	snprintf(id, len, "%s", jstr(doc, "Id"));
	cJSON_Delete(doc);
}

static const char *ctr_state(cJSON *doc)
{
	return jstr(cJSON_GetObjectItemCaseSensitive(doc, "State"), "Status");
}

static char *status(struct fx *f, enum ws_kind kind, const char *name)
{
	char n[128], *text = NULL;
	size_t len;
	full(f, n, sizeof(n), name);
	assert_int_equal(ws_status(f->ws, kind, n, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static bool errors_have(struct fx *f, const char *needle)
{
	char *text = NULL;
	size_t len;
	assert_int_equal(ws_errors_render(f->ws, &text, &len), 0);
	bool found = strstr(text, needle) != NULL;
	if (!found)
		fprintf(stderr, "# errors log:\n%s", text);
	free(text);
	return found;
}

static void web_up(struct fx *f, char *id, size_t idlen)
{
	char card[1024];
	image_card(f, card, sizeof(card), "img");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	container_card(f, card, sizeof(card), "web", "img", "one", "");
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	ctr_id(f, "web", id, idlen);
}

/* ---- tests ---- */

static void test_commit_creates_and_is_idempotent(void **state)
{
	struct fx *f = *state;
	char card[1024], id[BE_ID_SIZE], id2[BE_ID_SIZE], name[128];

	web_up(f, id, sizeof(id));

	cJSON *doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "running");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "Config"), "Labels");
	assert_string_equal(jstr(labels, WS_LABEL_MANAGED), "1");
	assert_string_equal(jstr(labels, WS_LABEL_WORKSPACE), f->root);
	assert_string_equal(jstr(labels, WS_LABEL_CARD), "web/web.container.yaml");
	assert_int_equal(strlen(jstr(labels, WS_LABEL_HASH)), 64);
	assert_string_equal(jstr(labels, "team"), "qa");
	cJSON_Delete(doc);

	/* The same content again: nothing restarted. */
	container_card(f, card, sizeof(card), "web", "img", "one", "");
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);

	/* Listings and status. */
	struct ws_object *objs = NULL, obj;
	size_t n = 0;
	bool seen = false;
	full(f, name, sizeof(name), "web");
	assert_int_equal(ws_list(f->ws, WS_CONTAINER, &objs, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(objs[i].name, name) == 0) {
			seen = true;
			assert_true(objs[i].managed);
			assert_string_equal(objs[i].state, "running");
			assert_string_equal(objs[i].card, "web/web.container.yaml");
		}
	free(objs);
	assert_true(seen);
	full(f, name, sizeof(name), "img");
	assert_int_equal(ws_lookup(f->ws, WS_IMAGE, name, &obj), 0);
	assert_string_equal(obj.state, "present");
	char *text = status(f, WS_CONTAINER, "web");
	assert_true(strncmp(text, "running\n", 8) == 0);
	assert_non_null(strstr(text, "\nid: "));
	assert_non_null(strstr(text, "\ncard: web/web.container.yaml\n"));
	free(text);
	text = status(f, WS_IMAGE, "img");
	assert_true(strncmp(text, "present\n", 8) == 0);
	free(text);

	/* Another command: replaced. */
	container_card(f, card, sizeof(card), "web", "img", "two", "");
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_not_equal(id, id2);
	doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);

	/* Its logs. */
	size_t len;
	full(f, name, sizeof(name), "web");
	for (int i = 0; i < 30; i++) {
		assert_int_equal(ws_container_logs(f->ws, name, &text, &len), 0);
		bool got = strstr(text, "two\n") != NULL;
		free(text);
		if (got)
			break;
		assert_true(i < 29);
		usleep(200000);
	}
}

static void test_invalid_card_keeps_container(void **state)
{
	struct fx *f = *state;
	char card[1024], id[BE_ID_SIZE], id2[BE_ID_SIZE];

	web_up(f, id, sizeof(id));
	/* Line 8, column 11: the mount type. */
	container_card(f, card, sizeof(card), "web", "img", "three",
		       "  mounts:\n    - type: rw\n      source: /tmp\n      target: /x\n");
	ws_errors_clear(f->ws);
	unsigned long gen = ws_errors_generation(f->ws);
	assert_int_equal(commit(f, "web/web.container.yaml", card), -EINVAL);
	assert_int_equal(ws_card_result(f->ws, "web/web.container.yaml"), -EINVAL);
	assert_true(ws_errors_generation(f->ws) != gen);
	assert_true(errors_have(f, "cards/web/web.container.yaml:10:13: spec.mounts.0.type"));
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
	cJSON *doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);

	/* A duplicate ref in another file. */
	container_card(f, card, sizeof(card), "web", "img", "four", "");
	assert_int_equal(commit(f, "other.yaml", card), -EINVAL);
	assert_true(errors_have(f, "(already registered) in cards/web/web.container.yaml"));
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
	/* Warnings go to the log too, and do not stop the card. */
	container_card(f, card, sizeof(card), "web", "img", "one", "  colour: blue\n");
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	assert_true(errors_have(f, "cards/web/web.container.yaml:9:3: warning: "));
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2); /* an unknown key changes nothing that is applied */
	/* Fixed again: commits. */
	assert_int_equal(unlink_card(f, "other.yaml"), 0);
	container_card(f, card, sizeof(card), "web", "img", "one", "");
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	assert_int_equal(ws_card_result(f->ws, "web/web.container.yaml"), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
}

static void test_foreign_container_refused(void **state)
{
	struct fx *f = *state;
	char card[1024], name[128], id[BE_ID_SIZE], id2[BE_ID_SIZE];

	full(f, name, sizeof(name), "web");
	cJSON *config = cJSON_Parse("{\"Image\":\"cutipfs-busybox:latest\",\"Cmd\":[\"true\"]}");
	assert_int_equal(engine_container_create(f->e, name, config, id, sizeof(id), NULL, 0), 0);
	cJSON_Delete(config);

	image_card(f, card, sizeof(card), "img");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	container_card(f, card, sizeof(card), "web", "img", "one", "");
	assert_int_equal(commit(f, "web.yaml", card), -EEXIST);
	assert_true(errors_have(f, "was not made by this workspace"));
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
	cJSON *doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "created");
	cJSON_Delete(doc);

	struct ws_object obj;
	assert_int_equal(ws_lookup(f->ws, WS_CONTAINER, name, &obj), 0);
	assert_false(obj.managed);
	char *text = status(f, WS_CONTAINER, "web");
	assert_non_null(strstr(text, "reason: container"));
	free(text);
	/* Removing the card leaves the foreign container alone. */
	assert_int_equal(unlink_card(f, "web.yaml"), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
}

static void test_pending_until_image_card(void **state)
{
	struct fx *f = *state;
	char card[1024], name[128];
	struct ws_object obj;

	container_card(f, card, sizeof(card), "web", "img", "one", "");
	assert_int_equal(commit(f, "web.yaml", card), 0);
	assert_null(ctr(f, "web"));
	full(f, name, sizeof(name), "web");
	assert_int_equal(ws_lookup(f->ws, WS_CONTAINER, name, &obj), 0);
	assert_string_equal(obj.state, "pending");
	char *text = status(f, WS_CONTAINER, "web");
	char want[256];
	snprintf(want, sizeof(want), "pending\nreason: waits for images/%s-img\n", f->pfx);
	assert_true(strncmp(text, want, strlen(want)) == 0);
	free(text);
	char *inspect = NULL;
	size_t len;
	assert_int_equal(ws_inspect(f->ws, WS_CONTAINER, name, &inspect, &len), 0);
	assert_string_equal(inspect, "{}\n");
	free(inspect);

	image_card(f, card, sizeof(card), "img");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	cJSON *doc = ctr(f, "web");
	assert_non_null(doc);
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);
	assert_int_equal(ws_lookup(f->ws, WS_CONTAINER, name, &obj), 0);
	assert_string_equal(obj.state, "running");
}

static void subnet(char *buf, size_t len, int which)
{
	snprintf(buf, len, "10.%d.%ld.0/24", 214 + which, (long)(getpid() % 250));
}

static void network_card(struct fx *f, char *buf, size_t len, const char *name, const char *net)
{
	snprintf(buf, len,
		 "apiVersion: cutip/v1\nkind: NetworkCard\nmetadata:\n  name: %s-%s\nspec:\n"
		 "  subnet: %s\n",
		 f->pfx, name, net);
}

static void test_network_and_busy_remove(void **state)
{
	struct fx *f = *state;
	char card[1024], extra[256], net[64], name[128];

	subnet(net, sizeof(net), 0);
	network_card(f, card, sizeof(card), "net", net);
	assert_int_equal(commit(f, "net.yaml", card), 0);
	image_card(f, card, sizeof(card), "img");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	snprintf(extra, sizeof(extra), "  networkRef: {ref: networks/%s-net}\n", f->pfx);
	container_card(f, card, sizeof(card), "web", "img", "one", extra);
	assert_int_equal(commit(f, "web.yaml", card), 0);

	full(f, name, sizeof(name), "net");
	cJSON *doc = ctr(f, "web");
	assert_non_null(doc);
	assert_string_equal(ctr_state(doc), "running");
	const cJSON *nets = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "NetworkSettings"), "Networks");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(nets, name));
	cJSON_Delete(doc);

	cJSON *n = NULL;
	assert_int_equal(engine_network_inspect(f->e, name, &n, NULL, 0), 0);
	const cJSON *cfg = cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(n, "IPAM"), "Config"),
	    0);
	assert_string_equal(jstr(cfg, "Subnet"), net);
	char gw[64];
	snprintf(gw, sizeof(gw), "%.*s1", (int)(strlen(net) - 4), net);
	assert_string_equal(jstr(cfg, "Gateway"), gw);
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(n, "Labels"), WS_LABEL_MANAGED),
			    "1");
	cJSON_Delete(n);
	char *text = status(f, WS_NETWORK, "net");
	assert_true(strncmp(text, "present\n", 8) == 0);
	free(text);
	struct ws_object obj;
	assert_int_equal(ws_lookup(f->ws, WS_NETWORK, name, &obj), 0);
	assert_string_equal(obj.state, "present");
	assert_true(obj.managed);
	assert_true(obj.changed > 1600000000);

	/* In use: the network card stays. */
	assert_int_equal(unlink_card(f, "net.yaml"), -EBUSY);
	assert_int_equal(engine_network_inspect(f->e, name, &n, NULL, 0), 0);
	cJSON_Delete(n);
	/* And so does the image while the container uses it. */
	assert_int_equal(unlink_card(f, "img.yaml"), -EBUSY);

	assert_int_equal(unlink_card(f, "web.yaml"), 0);
	assert_null(ctr(f, "web"));
	assert_int_equal(unlink_card(f, "net.yaml"), 0);
	assert_int_equal(engine_network_inspect(f->e, name, &n, NULL, 0), -ENOENT);
	assert_int_equal(unlink_card(f, "img.yaml"), 0);
	full(f, name, sizeof(name), "img:latest");
	assert_int_equal(engine_image_inspect(f->e, name, &n, NULL, 0), -ENOENT);
	/* The image it was an alias of is still there. */
	assert_int_equal(engine_image_inspect(f->e, "cutipfs-busybox:latest", &n, NULL, 0), 0);
	cJSON_Delete(n);
}

static void test_network_subnet_conflict(void **state)
{
	struct fx *f = *state;
	char card[1024], a[64], b[64], name[128], id[BE_ID_SIZE];
	bool created;

	subnet(a, sizeof(a), 1);
	subnet(b, sizeof(b), 2);
	full(f, name, sizeof(name), "net");
	assert_int_equal(engine_network_create(f->e, name, NULL, a, NULL, NULL, id, sizeof(id),
					       &created, NULL, 0),
			 0);
	network_card(f, card, sizeof(card), "net", b);
	assert_int_equal(commit(f, "net.yaml", card), -EEXIST);
	char want[300];
	snprintf(want, sizeof(want), "network '%s' exists with subnet %s, card wants %s", name, a,
		 b);
	assert_true(errors_have(f, want));
	/* The same subnet: someone else's network is adopted, and left alone at removal. */
	network_card(f, card, sizeof(card), "net", a);
	assert_int_equal(commit(f, "net.yaml", card), 0);
	assert_int_equal(unlink_card(f, "net.yaml"), 0);
	cJSON *n = NULL;
	assert_int_equal(engine_network_inspect(f->e, name, &n, NULL, 0), 0);
	cJSON_Delete(n);
}

static void test_editor_rename_dance(void **state)
{
	struct fx *f = *state;
	char card[1024], id[BE_ID_SIZE], id2[BE_ID_SIZE], from[600], to[600];

	web_up(f, id, sizeof(id));
	container_card(f, card, sizeof(card), "web", "img", "one", "");
	snprintf(from, sizeof(from), "%s/cutip/cards/web/web.container.yaml", f->root);
	snprintf(to, sizeof(to), "%.500s~", from);

	/* vim: rename to the backup, write the file anew, unlink the backup. */
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(
	    ws_rename(f->ws, "web/web.container.yaml", "web/web.container.yaml~", NULL, 0), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	assert_int_equal(unlink_card(f, "web/web.container.yaml~"), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
	cJSON *doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);

	/* Atomic save: a hidden temp file renamed onto the card, new content. */
	container_card(f, card, sizeof(card), "web", "img", "five", "");
	write_file(f, "web/.web.tmp", card);
	snprintf(from, sizeof(from), "%s/cutip/cards/web/.web.tmp", f->root);
	snprintf(to, sizeof(to), "%s/cutip/cards/web/web.container.yaml", f->root);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(
	    ws_rename(f->ws, "web/.web.tmp", "web/web.container.yaml", card, strlen(card)), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_not_equal(id, id2);

	/* A directory of cards renamed: they keep what they made. */
	char dir2[600];
	snprintf(from, sizeof(from), "%s/cutip/cards/web", f->root);
	snprintf(dir2, sizeof(dir2), "%s/cutip/cards/site", f->root);
	assert_int_equal(rename(from, dir2), 0);
	assert_int_equal(ws_rename(f->ws, "web", "site", NULL, 0), 0);
	ctr_id(f, "web", id, sizeof(id));
	assert_string_equal(id, id2);
	assert_int_equal(commit(f, "site/web.container.yaml", card), 0);
	ctr_id(f, "web", id, sizeof(id));
	assert_string_equal(id, id2);
	char *text = status(f, WS_CONTAINER, "web");
	assert_non_null(strstr(text, "\ncard: site/web.container.yaml\n"));
	free(text);
	snprintf(to, sizeof(to), "%.500s/web.container.yaml", dir2);

	/* Renamed to a backup and unlinked with nothing new: what it made goes. */
	snprintf(from, sizeof(from), "%.500s~", to);
	assert_int_equal(rename(to, from), 0);
	assert_int_equal(
	    ws_rename(f->ws, "site/web.container.yaml", "site/web.container.yaml~", NULL, 0), 0);
	assert_true(exists(f, "web"));
	assert_int_equal(unlink_card(f, "site/web.container.yaml~"), 0);
	assert_null(ctr(f, "web"));
}

static void test_recovery_at_open(void **state)
{
	struct fx *f = *state;
	char card[1024], id[BE_ID_SIZE], id2[BE_ID_SIZE];

	web_up(f, id, sizeof(id));
	close_ws(f);
	open_ws(f);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_equal(id, id2);
	cJSON *doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);

	/* Changed while unmounted: applied at open. */
	close_ws(f);
	container_card(f, card, sizeof(card), "web", "img", "six", "");
	write_file(f, "web/web.container.yaml", card);
	open_ws(f);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_not_equal(id, id2);

	/* A copied workspace in any order: containers first, images last, in one open. */
	close_ws(f);
	container_card(f, card, sizeof(card), "api", "img2", "seven", "");
	write_file(f, "a-api.yaml", card);
	image_card(f, card, sizeof(card), "img2");
	write_file(f, "z-img2.yaml", card);
	open_ws(f);
	doc = ctr(f, "api");
	assert_non_null(doc);
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);
}

/* Units and groups: the word and member lines of status, plan, ctl down/up in order, and the
 * held mark across a close and open (backends/groups.c, group-plan.c, group-ctl.c). */
static void unit_card(struct fx *f, char *buf, size_t len, const char *name)
{
	snprintf(buf, len,
		 "apiVersion: cutip/v1\nkind: Unit\nmetadata:\n  name: %s-%s\nspec:\n"
		 "  containerRef: {ref: containers/%s-%s}\n",
		 f->pfx, name, f->pfx, name);
}

static char *plan(struct fx *f, enum ws_kind kind, const char *name)
{
	char n[128], *text = NULL;
	size_t len;
	full(f, n, sizeof(n), name);
	assert_int_equal(ws_group_plan(f->ws, kind, n, &text, &len), 0);
	return text;
}

static bool running(struct fx *f, const char *name)
{
	cJSON *doc = ctr(f, name);
	bool up = doc && strcmp(ctr_state(doc), "running") == 0;
	cJSON_Delete(doc);
	return up;
}

/* Waits for the first line of a unit's or group's status (the state follows the events). */
static void wait_word(struct fx *f, enum ws_kind kind, const char *name, const char *word)
{
	char *text = NULL;
	for (int i = 0; i < 100; i++) {
		free(text);
		text = status(f, kind, name);
		if (strncmp(text, word, strlen(word)) == 0 && text[strlen(word)] == '\n')
			break;
		usleep(100 * 1000);
	}
	if (strncmp(text, word, strlen(word)) != 0)
		fprintf(stderr, "# status of %s, want %s:\n%s", name, word, text);
	assert_true(strncmp(text, word, strlen(word)) == 0 && text[strlen(word)] == '\n');
	free(text);
}

static void test_groups(void **state)
{
	struct fx *f = *state;
	char card[1024], id[BE_ID_SIZE], id2[BE_ID_SIZE], n[128], line[256];

	web_up(f, id, sizeof(id));
	container_card(f, card, sizeof(card), "db", "img", "two", "");
	assert_int_equal(commit(f, "db.container.yaml", card), 0);
	unit_card(f, card, sizeof(card), "web");
	assert_int_equal(commit(f, "web.unit.yaml", card), 0);
	unit_card(f, card, sizeof(card), "db");
	assert_int_equal(commit(f, "db.unit.yaml", card), 0);
	snprintf(card, sizeof(card),
		 "apiVersion: cutip/v1\nkind: Group\nmetadata:\n  name: %s-app\nspec:\n"
		 "  units:\n  - {ref: units/%s-db}\n  - {ref: units/%s-web}\n",
		 f->pfx, f->pfx, f->pfx);
	assert_int_equal(commit(f, "app.group.yaml", card), 0);
	wait_word(f, WS_GROUP, "app", "up");
	char *text = status(f, WS_GROUP, "app");
	snprintf(line, sizeof(line), "up\n%s-db running\n%s-web running\n", f->pfx, f->pfx);
	assert_true(strncmp(text, line, strlen(line)) == 0);
	free(text);
	text = plan(f, WS_GROUP, "app");
	assert_string_equal(text, "nothing to do\n");
	free(text);

	struct ws_object *objs = NULL;
	size_t count = 0;
	assert_int_equal(ws_list(f->ws, WS_UNIT, &objs, &count), 0);
	assert_int_equal(count, 2);
	free(objs);

	/* Bad words change nothing. */
	full(f, n, sizeof(n), "app");
	assert_int_equal(ws_group_ctl(f->ws, WS_GROUP, n, "stop"), -EINVAL);
	assert_int_equal(ws_group_ctl(f->ws, WS_GROUP, n, "down --force"), -EINVAL);
	assert_int_equal(ws_group_ctl(f->ws, WS_GROUP, "nosuchgroup", "up"), -ENOENT);
	assert_true(running(f, "web"));

	assert_int_equal(ws_group_ctl(f->ws, WS_GROUP, n, "down\n"), 0);
	assert_false(running(f, "web"));
	assert_false(running(f, "db"));
	wait_word(f, WS_GROUP, "app", "down");
	text = plan(f, WS_GROUP, "app");
	snprintf(line, sizeof(line), "start_container %s-db\nstart_container %s-web\n", f->pfx,
		 f->pfx);
	assert_string_equal(text, line);
	free(text);

	/* Held across a close and open, and a card edit while down starts nothing. */
	close_ws(f);
	open_ws(f);
	assert_int_equal(ws_settle(f->ws, 60000), 0);
	container_card(f, card, sizeof(card), "web", "img", "three", "");
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	assert_false(running(f, "web"));
	assert_false(running(f, "db"));
	wait_word(f, WS_UNIT, "web", "down");
	text = plan(f, WS_UNIT, "web");
	snprintf(line, sizeof(line), "replace_container %s-web (unit %s-web)\n", f->pfx, f->pfx);
	assert_non_null(strstr(text, line));
	free(text);

	ctr_id(f, "db", id, sizeof(id));
	assert_int_equal(ws_group_ctl(f->ws, WS_GROUP, n, "up"), 0);
	assert_true(running(f, "web"));
	assert_true(running(f, "db"));
	ctr_id(f, "db", id2, sizeof(id2));
	assert_string_equal(id, id2); /* unchanged: started, not replaced */
	wait_word(f, WS_GROUP, "app", "up");

	/* One unit down: the group is partial; down --rm removes. */
	full(f, n, sizeof(n), "db");
	assert_int_equal(ws_group_ctl(f->ws, WS_UNIT, n, "down --rm"), 0);
	assert_false(exists(f, "db"));
	wait_word(f, WS_GROUP, "app", "partial");
	wait_word(f, WS_UNIT, "db", "down");
	assert_int_equal(ws_group_ctl(f->ws, WS_UNIT, n, "up"), 0);
	assert_true(running(f, "db"));
	wait_word(f, WS_GROUP, "app", "up");
}

static void test_engine_down(void **state)
{
	struct fx *f = *state;
	struct backend *dead = NULL;
	struct be_open bo = {.engine = "unix:///nonexistent/cutipfs.sock"};
	struct workspace *ws = NULL;
	char card[1024], err[256], name[128], *text;
	size_t len;

	assert_int_equal(
	    backend_open(NULL, &bo, &dead, err, sizeof(err)), 0);
	close_ws(f);
	assert_int_equal(ws_open(f->root, dead, &ws, err, sizeof(err)), 0);
	assert_int_equal(ws_settle(ws, 5000), 0);
	image_card(f, card, sizeof(card), "img");
	double t0 = now();
	write_file(f, "img.yaml", card);
	assert_int_equal(ws_commit(ws, "img.yaml", card, strlen(card)), 0);
	container_card(f, card, sizeof(card), "web", "img", "one", "");
	write_file(f, "web.yaml", card);
	assert_int_equal(ws_commit(ws, "web.yaml", card, strlen(card)), 0);
	assert_true(now() - t0 < 2.0);

	full(f, name, sizeof(name), "img");
	assert_int_equal(ws_status(ws, WS_IMAGE, name, &text, &len), 0);
	assert_true(strncmp(text, "pending\n", 8) == 0);
	assert_non_null(strstr(text, "reason: waits for the engine"));
	free(text);
	full(f, name, sizeof(name), "web");
	struct ws_object obj;
	assert_int_equal(ws_lookup(ws, WS_CONTAINER, name, &obj), 0);
	assert_string_equal(obj.state, "pending");
	text = NULL;
	assert_int_equal(ws_errors_render(ws, &text, &len), 0);
	assert_non_null(strstr(text, "cards/img.yaml: waits for the engine"));
	free(text);
	t0 = now();
	ws_close(ws);
	backend_close(dead);
	assert_true(now() - t0 < 3.0);

	/* The engine "answers" again: what waited is applied at open. */
	open_ws(f);
	cJSON *doc = ctr(f, "web");
	assert_non_null(doc);
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);
}

static void build_card(struct fx *f, char *buf, size_t len, const char *name, const char *ctx)
{
	snprintf(buf, len,
		 "apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: %s-%s\nspec:\n"
		 "  source: build\n  context: %s\n  build_args: {GREETING: hi}\n",
		 f->pfx, name, ctx);
}

static void write_dockerfile(struct fx *f, const char *dir, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", f->root, dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/Dockerfile", f->root, dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* An engine kind that cannot build or pause: the card is refused whole with EOPNOTSUPP and the
 * reason, and nothing is asked of the engine. The real driver, with capabilities taken away. */
static void test_unsupported(void **state)
{
	struct fx *f = *state;
	struct backend_ops less = *f->be->ops;
	const struct backend_ops *real = f->be->ops;
	char card[1024], name[128], id[BE_ID_SIZE], info[2048];
	cJSON *img = NULL;

	web_up(f, id, sizeof(id));
	less.caps &= ~(unsigned)(BE_CAP_BUILD | BE_CAP_PAUSE);
	f->be->ops = &less;
	f->be->ops->info(f->be, info, sizeof(info));
	assert_null(strstr(info, "build"));
	write_dockerfile(f, "ctx", "FROM cutipfs-busybox:latest\n");
	build_card(f, card, sizeof(card), "nobuild", "ctx");
	int rc = commit(f, "nobuild.yaml", card);
	full(f, name, sizeof(name), "web");
	int prc = ws_container_ctl(f->ws, name, "pause", NULL);
	f->be->ops = real;
	assert_int_equal(rc, -EOPNOTSUPP);
	assert_true(errors_have(f, "cannot do image builds"));
	full(f, name, sizeof(name), "nobuild:latest");
	assert_int_equal(engine_image_inspect(f->e, name, &img, NULL, 0), -ENOENT);
	assert_int_equal(prc, -EOPNOTSUPP);
	assert_true(errors_have(f, "cannot do pause"));
	cJSON *doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);
	f->be->ops->info(f->be, info, sizeof(info));
	assert_non_null(strstr(info, "capabilities: build pause"));
}

/* ws_logs_stream, the workspace's side alone (the driver's logs op replaced by a fake): every
 * byte the driver gives reaches the sink once and in order, whatever the chunks (every size, both
 * streams); the sink's stop ends it with 0; a container removed meanwhile (-ENOENT) is an
 * empty log; a failure is its errno and a line of errors saying what the driver said. */
struct fake_log {
	size_t total;
	int rc;
};
static const struct fake_log *fake_log;

static int fake_logs(struct backend *b, const char *id, const struct be_logs *o, be_log_sink sink,
		     void *ctx, char *err, size_t errlen)
{
	static char chunk[65536];
	size_t sent = 0, k = 1;
	(void)b;
	(void)id;
	(void)o;
	while (sent < fake_log->total) {
		size_t n = k < fake_log->total - sent ? k : fake_log->total - sent;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)('a' + (sent + i) % 26);
		int rc = sink(k & 1 ? BE_STDOUT : BE_STDERR, chunk, n, ctx);
		if (rc)
			return rc > 0 ? 0 : rc;
		sent += n;
		k = k * 7 % 65521 + 1; /* sizes from 1 to 64 KiB, in no order */
	}
	if (fake_log->rc < 0)
		snprintf(err, errlen, "fake driver: the log broke off");
	return fake_log->rc;
}

struct got_log {
	size_t len, stop_at;
	bool in_order;
};

static int got_sink(enum be_stream stream, const char *buf, size_t len, void *ctx)
{
	struct got_log *g = ctx;
	(void)stream;
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (char)('a' + (g->len + i) % 26))
			g->in_order = false;
	g->len += len;
	return g->stop_at && g->len >= g->stop_at;
}

static void test_logs_stream(void **state)
{
	struct fx *f = *state;
	struct backend_ops fake = *f->be->ops;
	const struct backend_ops *real = f->be->ops;
	char id[BE_ID_SIZE], name[128];
	const struct fake_log whole = {.total = 5u << 20}, broken = {.total = 1000, .rc = -EIO},
			      gone = {.total = 0, .rc = -ENOENT};
	struct got_log all = {.in_order = true}, some = {.in_order = true, .stop_at = 100000},
		       part = {.in_order = true}, none = {.in_order = true};

	web_up(f, id, sizeof(id));
	full(f, name, sizeof(name), "web");
	ws_errors_clear(f->ws);
	fake.logs = fake_logs;
	f->be->ops = &fake;
	fake_log = &whole;
	int rc_all = ws_logs_stream(f->ws, WS_CONTAINER, name, got_sink, &all);
	int rc_some = ws_logs_stream(f->ws, WS_CONTAINER, name, got_sink, &some);
	int rc_missing = ws_logs_stream(f->ws, WS_CONTAINER, "no-such-container", got_sink, &none);
	fake_log = &gone;
	int rc_gone = ws_logs_stream(f->ws, WS_CONTAINER, name, got_sink, &none);
	fake_log = &broken;
	int rc_broken = ws_logs_stream(f->ws, WS_CONTAINER, name, got_sink, &part);
	f->be->ops = real;

	assert_int_equal(rc_all, 0);
	assert_int_equal(all.len, whole.total);
	assert_true(all.in_order);
	assert_int_equal(rc_some, 0);
	assert_true(some.len >= some.stop_at && some.len < some.stop_at + 65536);
	assert_true(some.in_order);
	assert_int_equal(rc_missing, -ENOENT);
	assert_int_equal(rc_gone, 0);
	assert_int_equal(none.len, 0);
	assert_int_equal(rc_broken, -EIO);
	assert_int_equal(part.len, broken.total);
	assert_true(errors_have(f, "/logs: fake driver: the log broke off"));
}

static void test_build_image(void **state)
{
	struct fx *f = *state;
	char card[1024], name[128], *text;
	size_t len;
	cJSON *img = NULL;

	write_dockerfile(
	    f, "ctx", "FROM cutipfs-busybox:latest\nARG GREETING\nRUN echo $GREETING > /hello\n");
	build_card(f, card, sizeof(card), "built", "ctx");
	assert_int_equal(commit(f, "built.yaml", card), 0);
	full(f, name, sizeof(name), "built:latest");
	assert_int_equal(engine_image_inspect(f->e, name, &img, NULL, 0), 0);
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(img, "Config"), "Labels");
	assert_string_equal(jstr(labels, WS_LABEL_WORKSPACE), f->root);
	char id[BE_ID_SIZE];
	snprintf(id, sizeof(id), "%s", jstr(img, "Id"));
	cJSON_Delete(img);
	full(f, name, sizeof(name), "built");
	text = status(f, WS_IMAGE, "built");
	assert_true(strncmp(text, "present\n", 8) == 0);
	free(text);
	assert_int_equal(ws_image_log(f->ws, name, &text, &len), 0);
	assert_non_null(strstr(text, "building "));
	free(text);

	/* Unchanged card: not built again. */
	assert_int_equal(commit(f, "built.yaml", card), 0);
	full(f, name, sizeof(name), "built:latest");
	assert_int_equal(engine_image_inspect(f->e, name, &img, NULL, 0), 0);
	if (strcmp(jstr(img, "Id"), id) != 0) {
		char *have = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(img, "Config"), "Labels"));
		full(f, name, sizeof(name), "built");
		ws_image_log(f->ws, name, &text, &len);
		fprintf(stderr, "# rebuilt: labels %s\n# log:\n%s", have, text);
		free(have);
		free(text);
	}
	assert_string_equal(jstr(img, "Id"), id);
	cJSON_Delete(img);

	/* A failing build. */
	write_dockerfile(f, "bad", "FROM cutipfs-busybox:latest\nRUN echo broken-step && exit 3\n");
	build_card(f, card, sizeof(card), "bad", "bad");
	assert_int_equal(commit(f, "bad.yaml", card), -EIO);
	text = status(f, WS_IMAGE, "bad");
	assert_true(strncmp(text, "error\n", 6) == 0);
	assert_non_null(strstr(text, "reason: build of"));
	free(text);
	full(f, name, sizeof(name), "bad");
	assert_int_equal(ws_image_log(f->ws, name, &text, &len), 0);
	assert_non_null(strstr(text, "broken-step"));
	free(text);
	assert_true(errors_have(f, "cards/bad.yaml: build of"));
}

static void test_remove_object(void **state)
{
	struct fx *f = *state;
	char id[BE_ID_SIZE], name[128], path[512];

	web_up(f, id, sizeof(id));
	full(f, name, sizeof(name), "web");
	assert_int_equal(ws_remove_object(f->ws, WS_CONTAINER, name), 0);
	assert_null(ctr(f, "web"));
	snprintf(path, sizeof(path), "%s/cutip/cards/web/web.container.yaml", f->root);
	assert_int_equal(access(path, F_OK), -1);
	struct ws_object obj;
	assert_int_equal(ws_lookup(f->ws, WS_CONTAINER, name, &obj), -ENOENT);
	assert_int_equal(ws_remove_object(f->ws, WS_CONTAINER, name), -ENOENT);
	/* Nothing brings it back. */
	close_ws(f);
	open_ws(f);
	assert_null(ctr(f, "web"));
	full(f, name, sizeof(name), "img");
	assert_int_equal(ws_remove_object(f->ws, WS_IMAGE, name), 0);
	snprintf(path, sizeof(path), "%s/cutip/cards/img.yaml", f->root);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_placeholders(void **state)
{
	struct fx *f = *state;
	char card[1024], extra[256], path[512];

	snprintf(path, sizeof(path), "%s/cutip/paths.yaml", f->root);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("data: /srv/data\n", fp);
	fclose(fp);
	image_card(f, card, sizeof(card), "img");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	snprintf(extra, sizeof(extra),
		 "  environment: {DATA: \"{{ paths.data }}\"}\n  mounts:\n"
		 "    - {type: bind, source: state/db, target: /db, create_host_path: true}\n");
	container_card(f, card, sizeof(card), "web", "img", "one", extra);
	assert_int_equal(commit(f, "web.yaml", card), 0);
	cJSON *doc = ctr(f, "web");
	assert_non_null(doc);
	char *env = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "Config"), "Env"));
	assert_non_null(strstr(env, "DATA=/srv/data"));
	free(env);
	cJSON_Delete(doc);
	snprintf(path, sizeof(path), "%s/state/db", f->root);
	assert_int_equal(access(path, F_OK), 0);

	snprintf(extra, sizeof(extra), "  environment: {DATA: \"{{ paths.nope }}\"}\n");
	container_card(f, card, sizeof(card), "web", "img", "one", extra);
	assert_int_equal(commit(f, "web.yaml", card), -EINVAL);
	assert_true(errors_have(f, "is not defined in cutip/paths.yaml"));
}

static void test_errors_log(void **state)
{
	struct fx *f = *state;
	char *text;
	size_t len;

	ws_errors_clear(f->ws);
	unsigned long gen = ws_errors_generation(f->ws);
	for (int i = 0; i < 1005; i++)
		ws_error_add(f->ws, "cards/x.yaml:1:1: message %d", i);
	assert_true(ws_errors_generation(f->ws) > gen);
	assert_int_equal(ws_errors_render(f->ws, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	/* The newest 1000, newest last, each "YYYY-MM-DDTHH:MM:SSZ MESSAGE". */
	assert_null(strstr(text, "message 4\n"));
	assert_non_null(strstr(text, "Z cards/x.yaml:1:1: message 5\n"));
	assert_true(strlen(text) > 30 && text[4] == '-' && text[10] == 'T' && text[19] == 'Z');
	assert_non_null(strstr(text, "message 1004\n"));
	assert_true(strcmp(text + len - strlen("message 1004\n"), "message 1004\n") == 0);
	free(text);
	ws_errors_clear(f->ws);
	assert_int_equal(ws_errors_render(f->ws, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
}

static bool json_has(const cJSON *j, const char *needle)
{
	char *text = cJSON_PrintUnformatted(j);
	bool found = text && strstr(text, needle);
	if (!found)
		fprintf(stderr, "# %s not in %s\n", needle, text ? text : "(null)");
	free(text);
	return found;
}

static void test_container_fields(void **state)
{
	struct fx *f = *state;
	char card[2048], extra[1024], want[256];
	int port = 20000 + (int)(getpid() % 20000);

	image_card(f, card, sizeof(card), "img");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	snprintf(extra, sizeof(extra),
		 "  ports: {\"80/tcp\": \"%d\"}\n"
		 "  environment: {MODE: test, EMPTY: \"\"}\n"
		 "  hostname: box\n  workdir: /tmp\n  privileged: false\n"
		 "  cap_add: [NET_ADMIN]\n  security_opts: [no-new-privileges]\n"
		 "  restart_policy: unless-stopped\n"
		 "  mounts:\n"
		 "    - {type: bind, source: conf, target: /conf, read_only: true, "
		 "create_host_path: true}\n"
		 "    - {type: volume, source: %s-data, target: /data}\n"
		 "  volumes: {%s-cache: /cache}\n",
		 port, f->pfx, f->pfx);
	container_card(f, card, sizeof(card), "web", "img", "one", extra);
	assert_int_equal(commit(f, "web.yaml", card), 0);
	cJSON *doc = ctr(f, "web");
	assert_non_null(doc);
	assert_string_equal(ctr_state(doc), "running");
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "Config");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(doc, "HostConfig");
	assert_string_equal(jstr(config, "Hostname"), "box");
	assert_string_equal(jstr(config, "WorkingDir"), "/tmp");
	assert_true(json_has(cJSON_GetObjectItemCaseSensitive(config, "Env"), "\"MODE=test\""));
	assert_true(json_has(cJSON_GetObjectItemCaseSensitive(config, "Env"), "\"EMPTY=\""));
	assert_true(json_has(cJSON_GetObjectItemCaseSensitive(config, "ExposedPorts"), "80/tcp"));
	snprintf(want, sizeof(want), "\"HostPort\":\"%d\"", port);
	assert_true(json_has(cJSON_GetObjectItemCaseSensitive(host, "PortBindings"), want));
	assert_true(json_has(cJSON_GetObjectItemCaseSensitive(host, "CapAdd"), "NET_ADMIN"));
	assert_true(
	    json_has(cJSON_GetObjectItemCaseSensitive(host, "SecurityOpt"), "no-new-privileges"));
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(host, "RestartPolicy"), "Name"),
			    "unless-stopped");
	const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(doc, "Mounts");
	snprintf(want, sizeof(want), "\"Source\":\"%s/conf\"", f->root);
	assert_true(json_has(mounts, want));
	assert_true(json_has(mounts, "\"Destination\":\"/conf\""));
	assert_true(json_has(mounts, "\"RW\":false"));
	snprintf(want, sizeof(want), "\"Name\":\"%s-data\"", f->pfx);
	assert_true(json_has(mounts, want));
	snprintf(want, sizeof(want), "\"Name\":\"%s-cache\"", f->pfx);
	assert_true(json_has(mounts, want));
	cJSON_Delete(doc);

	/* spec.volumes are made with our labels, and kept when the card goes (data). */
	char vol[128];
	cJSON *v = NULL;
	full(f, vol, sizeof(vol), "cache");
	assert_int_equal(engine_volume_inspect(f->e, vol, &v, NULL, 0), 0);
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(v, "Labels"), WS_LABEL_MANAGED),
			    "1");
	cJSON_Delete(v);
	assert_int_equal(unlink_card(f, "web.yaml"), 0);
	assert_false(exists(f, "web"));
	assert_int_equal(engine_volume_inspect(f->e, vol, &v, NULL, 0), 0);
	cJSON_Delete(v);
	full(f, vol, sizeof(vol), "data");
	engine_volume_remove(f->e, vol, true, NULL, 0); /* made by the engine, unlabelled */

	/* network_mode verbatim. */
	container_card(f, card, sizeof(card), "quiet", "img", "one", "  network_mode: none\n");
	assert_int_equal(commit(f, "quiet.yaml", card), 0);
	doc = ctr(f, "quiet");
	assert_non_null(doc);
	assert_string_equal(
	    jstr(cJSON_GetObjectItemCaseSensitive(doc, "HostConfig"), "NetworkMode"), "none");
	cJSON_Delete(doc);
}

static void test_volume_card(void **state)
{
	struct fx *f = *state;
	char card[1024], name[128];
	cJSON *v = NULL;

	snprintf(card, sizeof(card),
		 "apiVersion: cutip/v1\nkind: VolumeCard\nmetadata:\n  name: %s-vol\nspec:\n"
		 "  labels: {tier: db}\n",
		 f->pfx);
	assert_int_equal(commit(f, "vol.yaml", card), 0);
	full(f, name, sizeof(name), "vol");
	assert_int_equal(engine_volume_inspect(f->e, name, &v, NULL, 0), 0);
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(v, "Labels");
	assert_string_equal(jstr(labels, "tier"), "db");
	assert_string_equal(jstr(labels, WS_LABEL_WORKSPACE), f->root);
	cJSON_Delete(v);
	assert_int_equal(commit(f, "vol.yaml", card), 0);
	assert_int_equal(unlink_card(f, "vol.yaml"), 0);
	assert_int_equal(engine_volume_inspect(f->e, name, &v, NULL, 0), -ENOENT);

	/* Units and groups are kept, nothing applied. */
	snprintf(card, sizeof(card),
		 "apiVersion: cutip/v1\nkind: Unit\nmetadata:\n  name: u\nspec:\n"
		 "  containerRef: {ref: containers/%s-web}\n",
		 f->pfx);
	assert_int_equal(commit(f, "u.unit.yaml", card), 0);
	assert_int_equal(unlink_card(f, "u.unit.yaml"), 0);
}

static void test_rebuild_replaces_container(void **state)
{
	struct fx *f = *state;
	char card[1024], id[BE_ID_SIZE], id2[BE_ID_SIZE];

	write_dockerfile(f, "ctx",
			 "FROM cutipfs-busybox:latest\nARG GREETING\n"
			 "RUN echo $GREETING > /hello\n");
	build_card(f, card, sizeof(card), "app", "ctx");
	assert_int_equal(commit(f, "app.yaml", card), 0);
	container_card(f, card, sizeof(card), "web", "app", "one", "");
	assert_int_equal(commit(f, "web.yaml", card), 0);
	ctr_id(f, "web", id, sizeof(id));
	/* Another build argument: a new image, and the container made again from it. */
	snprintf(card, sizeof(card),
		 "apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: %s-app\nspec:\n"
		 "  source: build\n  context: ctx\n  build_args: {GREETING: bye}\n",
		 f->pfx);
	char name[128], old_image[BE_ID_SIZE];
	cJSON *img = NULL;
	full(f, name, sizeof(name), "app:latest");
	assert_int_equal(engine_image_inspect(f->e, name, &img, NULL, 0), 0);
	snprintf(old_image, sizeof(old_image), "%s", jstr(img, "Id"));
	cJSON_Delete(img);
	assert_int_equal(commit(f, "app.yaml", card), 0);
	ctr_id(f, "web", id2, sizeof(id2));
	assert_string_not_equal(id, id2);
	/* The previous build, unused now, is gone rather than left dangling. */
	assert_int_equal(engine_image_inspect(f->e, old_image, &img, NULL, 0), -ENOENT);
	cJSON *doc = ctr(f, "web");
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);
}

struct reader {
	struct fx *f;
	atomic_bool stop;
	int rounds;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	char name[128];

	full(r->f, name, sizeof(name), "web");
	while (!r->stop) {
		struct ws_object *objs = NULL, obj;
		size_t n, len;
		char *text = NULL;
		if (ws_list(r->f->ws, WS_CONTAINER, &objs, &n) == 0)
			free(objs);
		if (ws_list(r->f->ws, WS_IMAGE, &objs, &n) == 0)
			free(objs);
		ws_lookup(r->f->ws, WS_NETWORK, "bridge", &obj);
		if (ws_status(r->f->ws, WS_CONTAINER, name, &text, &len) == 0)
			free(text);
		if (ws_errors_render(r->f->ws, &text, &len) == 0)
			free(text);
		ws_card_result(r->f->ws, "web.yaml");
		r->rounds++;
	}
	return NULL;
}

/* The mount calls from many threads while the applier works. */
static void test_concurrent_readers(void **state)
{
	struct fx *f = *state;
	struct reader r[4];
	pthread_t t[4];
	char card[1024], id[BE_ID_SIZE];

	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){.f = f};
		atomic_init(&r[i].stop, false);
		assert_int_equal(pthread_create(&t[i], NULL, read_loop, &r[i]), 0);
	}
	web_up(f, id, sizeof(id));
	container_card(f, card, sizeof(card), "web", "img", "two", "");
	assert_int_equal(commit(f, "web/web.container.yaml", card), 0);
	container_card(f, card, sizeof(card), "web", "img", "two", "  bogus: [\n");
	assert_int_equal(commit(f, "web/web.container.yaml", card), -EINVAL);
	assert_int_equal(unlink_card(f, "web/web.container.yaml"), 0);
	for (int i = 0; i < 4; i++) {
		r[i].stop = true;
		pthread_join(t[i], NULL);
		assert_true(r[i].rounds > 0);
	}
}

/* ---- the apply pool ---- */

/* How many containers the engine has with this test workspace's label. */
static int ours(struct fx *f)
{
	char label[300];
	cJSON *list = NULL;
	snprintf(label, sizeof(label), "%s=%s", WS_LABEL_WORKSPACE, f->root);
	assert_int_equal(engine_container_list(f->e, label, &list, NULL, 0), 0);
	int n = cJSON_GetArraySize(list);
	cJSON_Delete(list);
	return n;
}

static void assert_running(struct fx *f, const char *name)
{
	cJSON *doc = ctr(f, name);
	assert_non_null(doc);
	assert_string_equal(ctr_state(doc), "running");
	cJSON_Delete(doc);
}

#define POOL_CARDS 6

/* Recovery: container cards found before the image and network cards they name (a-* sort
 * first) are applied side by side once those are, each once. */
static void test_pool_recovery_in_order(void **state)
{
	struct fx *f = *state;
	char card[1024], extra[256], net[64], rel[64], name[32], netname[128];

	close_ws(f);
	subnet(net, sizeof(net), 0);
	snprintf(extra, sizeof(extra), "  networkRef: {ref: networks/%s-pnet}\n", f->pfx);
	for (int i = 0; i < POOL_CARDS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(rel, sizeof(rel), "a-p%d.yaml", i);
		container_card(f, card, sizeof(card), name, "pimg", "one", i % 2 ? extra : "");
		write_file(f, rel, card);
	}
	image_card(f, card, sizeof(card), "pimg");
	write_file(f, "m-img.yaml", card);
	network_card(f, card, sizeof(card), "pnet", net);
	write_file(f, "n-net.yaml", card);
	open_ws(f);

	full(f, netname, sizeof(netname), "pnet");
	for (int i = 0; i < POOL_CARDS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(rel, sizeof(rel), "a-p%d.yaml", i);
		assert_running(f, name);
		assert_int_equal(ws_card_result(f->ws, rel), 0);
		cJSON *doc = ctr(f, name);
		const cJSON *nets = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(doc, "NetworkSettings"), "Networks");
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(nets, netname) != NULL, i % 2);
		cJSON_Delete(doc);
	}
	assert_int_equal(ours(f), POOL_CARDS);
}

/* Commits one after another, their starts side by side: a failed start is the card's result
 * without failing its commit; a card committed twice at once ends with its latest content,
 * one container; a card removed right after its commit leaves nothing. */
static void test_pool_commits(void **state)
{
	struct fx *f = *state;
	char card[1024], rel[64], name[32];

	image_card(f, card, sizeof(card), "pimg");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	for (int i = 0; i < POOL_CARDS; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		snprintf(rel, sizeof(rel), "q%d.yaml", i);
		container_card(f, card, sizeof(card), name, "pimg", "one", "");
		write_file(f, rel, card);
		assert_int_equal(ws_commit(f->ws, rel, card, strlen(card)), 0);
	}
	snprintf(card, sizeof(card),
		 "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata:\n  name: %s-nocmd\nspec:\n"
		 "  imageRef: {ref: images/%s-pimg}\n  command: /no/such/command\n",
		 f->pfx, f->pfx);
	write_file(f, "nocmd.yaml", card);
	assert_int_equal(ws_commit(f->ws, "nocmd.yaml", card, strlen(card)), 0);
	assert_int_equal(ws_card_result(f->ws, "nocmd.yaml"), -EIO);
	assert_true(errors_have(f, "start failed"));
	char *text = status(f, WS_CONTAINER, "nocmd");
	assert_non_null(strstr(text, "start failed"));
	free(text);

	container_card(f, card, sizeof(card), "q0", "pimg", "two", "");
	write_file(f, "q0.yaml", card);
	assert_int_equal(ws_commit(f->ws, "q0.yaml", card, strlen(card)), 0);
	container_card(f, card, sizeof(card), "q0", "pimg", "three", "");
	write_file(f, "q0.yaml", card);
	assert_int_equal(ws_commit(f->ws, "q0.yaml", card, strlen(card)), 0);

	container_card(f, card, sizeof(card), "gone", "pimg", "one", "");
	write_file(f, "gone.yaml", card);
	assert_int_equal(ws_commit(f->ws, "gone.yaml", card, strlen(card)), 0);
	assert_int_equal(unlink_card(f, "gone.yaml"), 0);
	assert_false(exists(f, "gone"));

	assert_int_equal(ws_settle(f->ws, 120000), 0);
	for (int i = 0; i < POOL_CARDS; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		snprintf(rel, sizeof(rel), "q%d.yaml", i);
		assert_running(f, name);
		assert_int_equal(ws_card_result(f->ws, rel), 0);
	}
	cJSON *doc = ctr(f, "q0");
	char *cmd = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "Config"), "Cmd"));
	assert_non_null(strstr(cmd, "echo three"));
	free(cmd);
	cJSON_Delete(doc);
	assert_false(exists(f, "gone"));
	/* Each good card's container once, and the one whose start failed. */
	assert_int_equal(ours(f), POOL_CARDS + 1);
}

static void put(struct fx *f, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_buildtime_resources(void **state)
{
	struct fx *f = *state;
	char card[1024], path[512];

	snprintf(path, sizeof(path), "%s/models", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/assets", f->root);
	mkdir(path, 0755);
	put(f, "models/weights.txt", "w1\n");
	put(f, "assets/a.txt", "a\n");
	put(f, "x.conf", "conf\n");
	snprintf(path, sizeof(path), "%s/cutip/paths.yaml", f->root);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "conf: %s/x.conf\n", f->root);
	fclose(fp);
	write_dockerfile(f, "ctx",
			 "FROM cutipfs-busybox:latest\nCOPY weights.txt /w\nCOPY assets /assets\n"
			 "COPY cfg/x.conf /x.conf\nRUN test -f /assets/a.txt && grep -q conf "
			 "/x.conf\n");
	snprintf(card, sizeof(card),
		 "apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: %s-res\nspec:\n"
		 "  source: build\n  context: ctx\n  buildtime_resources:\n"
		 "    - src: models/weights.txt\n    - src: assets\n"
		 "    - {src: \"{{ paths.conf }}\", dest: cfg/x.conf}\n",
		 f->pfx);
	assert_int_equal(commit(f, "res.yaml", card), 0);
	char *text = status(f, WS_IMAGE, "res");
	assert_true(strncmp(text, "present\n", 8) == 0);
	free(text);
	/* The staging directory is gone. */
	snprintf(path, sizeof(path), "%s/.cutip/tmp", f->root);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 0);

	/* A resource that is not there. */
	snprintf(card, sizeof(card),
		 "apiVersion: cutip/v1\nkind: ImageCard\nmetadata:\n  name: %s-res2\nspec:\n"
		 "  source: build\n  context: ctx\n  buildtime_resources:\n"
		 "    - src: models/missing.bin\n",
		 f->pfx);
	assert_int_equal(commit(f, "res2.yaml", card), -EIO);
	assert_true(errors_have(f, "buildtime resource not found"));
}

/* A unix socket that relays to the engine's: absent at first (the engine is "down"), then
 * listening (it "comes back"). */
struct proxy {
	char path[108];
	const char *upstream;
	int fd;
	pthread_t thread;
};

static void relay(int a, int b)
{
	struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
	char buf[16384];

	while (poll(p, 2, 5000) > 0) {
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0 || write(p[1 - i].fd, buf, (size_t)n) != n)
				return;
		}
	}
}

struct conn {
	int client;
	const char *upstream;
};

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->upstream);
	if (up >= 0 && connect(up, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		relay(c->client, up);
	if (up >= 0)
		close(up);
	close(c->client);
	free(c);
	return NULL;
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	int c;

	while ((c = accept(px->fd, NULL, NULL)) >= 0) {
		struct conn *cn = malloc(sizeof(*cn));
		pthread_t t;
		cn->client = c;
		cn->upstream = px->upstream;
		if (pthread_create(&t, NULL, conn_main, cn) == 0)
			pthread_detach(t);
	}
	return NULL;
}

static void proxy_start(struct proxy *px)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	px->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(px->fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", px->path);
	assert_int_equal(bind(px->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(px->fd, 16), 0);
	assert_int_equal(pthread_create(&px->thread, NULL, proxy_main, px), 0);
}

static void proxy_stop(struct proxy *px)
{
	shutdown(px->fd, SHUT_RDWR);
	close(px->fd);
	pthread_join(px->thread, NULL);
	unlink(px->path);
}

static void test_engine_comes_back(void **state)
{
	struct fx *f = *state;
	const char *url0 = engine_url();
	struct proxy px = {.upstream = strncmp(url0, "unix://", 7) == 0 ? url0 + 7 : url0};
	struct backend *e = NULL;
	char card[1024], err[256], url[160];

	snprintf(px.path, sizeof(px.path), "%.80s/engine.sock", f->root);
	snprintf(url, sizeof(url), "unix://%s", px.path);
	struct be_open bo = {.engine = url};
	assert_int_equal(backend_open(NULL, &bo, &e, err, sizeof(err)), 0);
	close_ws(f);
	assert_int_equal(ws_open(f->root, e, &f->ws, err, sizeof(err)), 0);
	image_card(f, card, sizeof(card), "img");
	assert_int_equal(commit(f, "img.yaml", card), 0);
	container_card(f, card, sizeof(card), "web", "img", "one", "");
	assert_int_equal(commit(f, "web.yaml", card), 0);
	assert_false(exists(f, "web"));

	/* Back: the retry (every 2 s) applies what waited, without any commit. */
	proxy_start(&px);
	bool up = false;
	for (int i = 0; i < 100 && !up; i++) {
		usleep(100000);
		cJSON *doc = ctr(f, "web");
		up = doc && strcmp(ctr_state(doc), "running") == 0;
		cJSON_Delete(doc);
	}
	assert_true(up);
	char name[128];
	struct ws_object obj;
	full(f, name, sizeof(name), "img");
	assert_int_equal(ws_lookup(f->ws, WS_IMAGE, name, &obj), 0);
	assert_string_equal(obj.state, "present");
	close_ws(f);
	proxy_stop(&px);
	backend_close(e);
}

int main(void)
{
	if (strcmp(engine_url(), "none") == 0) {
		printf("1..0 # SKIP CUTIPFS_TEST_ENGINE=none\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_errors_log, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_creates_and_is_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_card_keeps_container, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_container_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_until_image_card, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_network_and_busy_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_network_subnet_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_editor_rename_dance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_at_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_build_image, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_placeholders, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_container_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_volume_card, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebuild_replaces_container, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pool_recovery_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pool_commits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buildtime_resources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_comes_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsupported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logs_stream, setup, teardown),
	};
	return cmocka_run_group_tests_name("workspace", tests, group_setup, group_teardown);
}
