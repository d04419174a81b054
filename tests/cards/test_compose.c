/* `cutipfs from-compose`: compose files of several shapes (tests/fixtures/compose) turned into
 * cards, Units and a Group that `cutipfs check` accepts; what needs a hand listed; bad files
 * refused with the reason; nothing written over an existing file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "card.h"
#include "check.h"
#include "compose.h"

#define COMPOSE FIXTURES "/compose/"

static const struct compose_file *file_of(const struct compose_result *r, const char *path)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].path, path) == 0)
			return &r->files[i];
	fail_msg("no file %s", path);
	return NULL;
}

static void has(const struct compose_result *r, const char *path, const char *text)
{
	const struct compose_file *f = file_of(r, path);
	if (!strstr(f->text, text))
		fail_msg("%s has no '%s':\n%s", path, text, f->text);
}

static void lacks(const struct compose_result *r, const char *path, const char *text)
{
	const struct compose_file *f = file_of(r, path);
	if (strstr(f->text, text))
		fail_msg("%s has '%s':\n%s", path, text, f->text);
}

static void noted(const struct compose_result *r, const char *text)
{
	for (size_t i = 0; i < r->nnotes; i++)
		if (strstr(r->notes[i], text))
			return;
	fail_msg("no note says '%s'", text);
}

/* A line a written file must hold. */
struct expect {
	const char *path, *text;
};

static void convert(const char *name, struct compose_result *r)
{
	struct card_diags d = {0};
	char path[512];
	snprintf(path, sizeof(path), COMPOSE "%s", name);
	int rc = compose_convert(path, r, &d);
	if (rc != 0) {
		card_diags_print(&d, stderr);
		fail_msg("%s was refused", name);
	}
	card_diags_free(&d);
}

/* Writes what name converts to into a new directory and runs `cutipfs check` on it: 0. */
static void written_and_checked(const char *name, char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/cutipfs-compose.XXXXXX");
	assert_non_null(mkdtemp(dir));
	char path[512];
	snprintf(path, sizeof(path), COMPOSE "%s", name);
	FILE *out = tmpfile();
	char *argv[] = {"from-compose", path, "-o", dir, NULL};
	assert_int_equal(compose_main(4, argv, out, stderr), 0);
	char *check[] = {"check", dir, NULL};
	rewind(out);
	if (card_check_main(2, check, out) != 0) {
		char line[1024];
		rewind(out);
		while (fgets(line, sizeof(line), out))
			fputs(line, stderr);
		fail_msg("cutipfs check refused what %s became", name);
	}
	fclose(out);
}

static void remove_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Images: the tag split off, docker.io/library/ before a short name, a build for a hand; the
 * container: its name, its first network, ports as cutipfs applies them, secrets as
 * placeholders with their values in secrets.yaml, binds and volumes, network_mode and flags;
 * networks with IPAM's subnet and gateway, or a placeholder; the units, and the group with db
 * before those that depend on it. */
static const struct expect shop_files[] = {
    {"cutip/cards/db/db.container.yaml",
     "\n  healthcheck:\n    test:\n    - CMD\n    - pg_isready\n"},
    {"cutip/cards/web/web.image.yaml", "image: docker.io/library/nginx\n"},
    {"cutip/cards/web/web.image.yaml", "tag: \"1.25\"\n"},
    {"cutip/cards/db/db.image.yaml", "tag: latest\n"},
    {"cutip/cards/worker/worker.image.yaml", "source: build\n"},
    {"cutip/cards/worker/worker.image.yaml", "dockerfile: worker.dockerfile\n"},
    {"cutip/cards/worker/worker.image.yaml", "VERSION: \"1.0\"\n"},
    {"cutip/cards/web/web.container.yaml", "name: shop-web\n"},
    {"cutip/cards/web/web.container.yaml", "networkRef: {ref: networks/front}\n"},
    {"cutip/cards/web/web.container.yaml", "\n    80/tcp: \"8080\"\n"},
    {"cutip/cards/web/web.container.yaml", "\n    443/tcp: \"8443\"\n"},
    {"cutip/cards/web/web.container.yaml", "WORKERS: \"4\"\n"},
    {"cutip/cards/web/web.container.yaml", "restart_policy: \"no\"\n"},
    {"cutip/cards/web/web.container.yaml", "API_TOKEN: \"{{ secrets.api_token }}\"\n"},
    {"cutip/secrets.yaml", "api_token: abc\n"},
    {"cutip/secrets.yaml", "postgres_password: secret\n"},
    {"cutip/cards/web/web.container.yaml", "source: html\n"},
    {"cutip/cards/web/web.container.yaml", "read_only: true\n"},
    {"cutip/cards/web/web.container.yaml", "cache: /var/cache/nginx\n"},
    {"cutip/cards/db/db.container.yaml", "data: /var/lib/postgresql/data\n"},
    {"cutip/cards/worker/worker.container.yaml", "network_mode: host\n"},
    {"cutip/cards/worker/worker.container.yaml", "privileged: true\n"},
    {"cutip/cards/worker/worker.container.yaml", "- NET_ADMIN\n"},
    {"cutip/cards/back/back.network.yaml", "subnet: 10.77.0.0/24\n"},
    {"cutip/cards/back/back.network.yaml", "gateway: 10.77.0.1\n"},
    {"cutip/cards/front/front.network.yaml", "subnet: 172.20.0.0/24\n"},
    {"cutip/cards/web/web.unit.yaml", "containerRef: {ref: containers/shop-web}\n"},
    {"cutip/cards/shop/shop.group.yaml",
     "- ref: units/db\n  - ref: units/web\n  - ref: units/worker\n"},
    {"cutip/cards/shop/workflow.py", "def main(ctx):"},
    {"cutip.yaml", "name: shop\n"},
};

static void test_shop(void **state)
{
	(void)state;
	struct compose_result r;
	convert("shop.yml", &r);
	for (size_t i = 0; i < sizeof(shop_files) / sizeof(shop_files[0]); i++)
		has(&r, shop_files[i].path, shop_files[i].text);
	assert_string_equal(r.group, "shop");
	lacks(&r, "cutip/cards/web/web.container.yaml", "9000");
	/* Secrets: a placeholder in the card, the value in secrets.yaml. */
	lacks(&r, "cutip/cards/web/web.container.yaml", "abc");
	/* What needs a hand. */
	noted(&r, "web: entrypoint");
	noted(&r, "condition service_healthy");
	noted(&r, "worker: build: copy ./worker/Dockerfile");
	noted(&r, "172.20.0.0/24 is a placeholder");
	noted(&r, "port 9000: no host port");
	noted(&r, "HOME takes its value from the shell");
	noted(&r, "on 2 networks");
	compose_result_free(&r);
}

/* The command list comes back word for word through CUTIP's shlex.split. */
static void test_command_round_trip(void **state)
{
	(void)state;
	struct compose_result r;
	convert("shop.yml", &r);
	const struct compose_file *f = file_of(&r, "cutip/cards/db/db.container.yaml");
	const char *line = strstr(f->text, "command: ");
	assert_non_null(line);
	line += strlen("command: ");
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "%.*s", (int)strcspn(line, "\n"), line);
	const char *err = NULL;
	char **argv = card_shlex_split(cmd, &err);
	assert_non_null(argv);
	const char *want[] = {"postgres", "-c", "max_connections=200", "it's", NULL};
	for (size_t i = 0; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[4]);
	card_argv_free(argv);
	compose_result_free(&r);
}

static void test_shlex_quote(void **state)
{
	(void)state;
	const char *words[] = {"plain", "",	     "two words",   "it's",	      "$HOME",
			       "a\"b",	"tab\there", "back\\slash", "x=1,y:2/z.@%+-_"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char *q = card_shlex_quote(words[i]);
		const char *err = NULL;
		char **argv = card_shlex_split(q, &err);
		assert_non_null(argv);
		assert_non_null(argv[0]);
		assert_string_equal(argv[0], words[i]);
		assert_null(argv[1]);
		card_argv_free(argv);
		free(q);
	}
	char *q = card_shlex_quote("x=1,y:2/z.@%+-_");
	assert_string_equal(q, "x=1,y:2/z.@%+-_"); /* safe: unquoted, as shlex.quote */
	free(q);
}

static void test_minimal(void **state)
{
	(void)state;
	struct compose_result r;
	convert("minimal.yml", &r);
	assert_string_equal(r.group, "minimal"); /* the file's stem */
	has(&r, "cutip/cards/app/app.container.yaml", "network_mode: bridge\n");
	has(&r, "cutip/cards/app/app.container.yaml", "command: sleep 3600\n");
	/* A registry with a port: its ':' is not the tag's. */
	has(&r, "cutip/cards/app/app.image.yaml", "image: localhost:5000/team/app\n");
	has(&r, "cutip/cards/app/app.image.yaml", "tag: latest\n");
	for (size_t i = 0; i < r.nfiles; i++)
		assert_string_not_equal(r.files[i].path, "cutip/secrets.yaml");
	compose_result_free(&r);
}

/* Long syntax; a read-only named volume is a mount (spec.volumes are read-write); $$ is
 * compose's $, an interpolation kept as written. */
static const struct expect long_files[] = {
    {"cutip/cards/api/api.container.yaml", "\n  user: \"1000\"\n"},
    {"cutip/cards/api/api.container.yaml", "\n  stop_timeout: 90\n"},
    {"cutip/cards/api/api.container.yaml", "\n  replicas: 2\n"},
    {"cutip/cards/api/api.container.yaml",
     "\n  resources:\n    memory: 256m\n    cpus: \"0.5\"\n    pids: \"20\"\n"},
    {"cutip/cards/api/api.container.yaml",
     "\n  healthcheck:\n    test: curl -f localhost:8000\n    interval: 10s\n    retries: \"5\"\n"},
    {"cutip/cards/db/db.container.yaml", "\n  healthcheck:\n    test:\n    - NONE\n"},
    {"cutip/cards/api/api.container.yaml", "\n    8000/udp: \"18000\"\n"},
    {"cutip/cards/api/api.container.yaml", "source: conf\n"},
    {"cutip/cards/api/api.container.yaml", "state: /var/lib/api\n"},
    {"cutip/cards/api/api.container.yaml", "DB_HOST: db\n"},
    {"cutip/cards/api/api.container.yaml", "SECRET_KEY: \"{{ secrets.secret_key }}\"\n"},
    {"cutip/cards/api/api.container.yaml", "tier: backend\n"},
    {"cutip/cards/api/api.container.yaml", "restart_policy: always\n"},
    {"cutip/cards/api/api.image.yaml", "image: registry.example.com:5000/api\n"},
    {"cutip/cards/api/api.image.yaml", "tag: \"2.1\"\n"},
    {"cutip/cards/db/db.container.yaml", "type: volume\n"},
    {"cutip/cards/db/db.container.yaml", "read_only: true\n"},
    {"cutip/cards/longform/longform.group.yaml", "- ref: units/db\n  - ref: units/api\n"},
    {"cutip/cards/db/db.container.yaml", "command: sh -c 'echo $HOME is ${USER:-nobody}'\n"},
};

static void test_long_syntax(void **state)
{
	(void)state;
	struct compose_result r;
	convert("long.yml", &r);
	for (size_t i = 0; i < sizeof(long_files) / sizeof(long_files[0]); i++)
		has(&r, long_files[i].path, long_files[i].text);
	assert_string_equal(r.group, "longform");
	noted(&r, "${USER:-nobody}': compose fills this in from its environment");
	noted(&r, "pinned by digest");
	noted(&r, "api: deploy.placement: no card field");
	noted(&r, "SECRET_KEY is a secret with no value");
	noted(&r, "volume state is external");
	compose_result_free(&r);
}

static void refused(const char *name, const char *why)
{
	struct card_diags d = {0};
	struct compose_result r;
	char path[512];
	snprintf(path, sizeof(path), COMPOSE "%s", name);
	assert_int_equal(compose_convert(path, &r, &d), -1);
	assert_int_equal(r.nfiles, 0);
	bool found = false;
	for (size_t i = 0; i < d.count; i++)
		found = found || strstr(d.items[i].message, why);
	if (!found) {
		card_diags_print(&d, stderr);
		fail_msg("%s: no error says '%s'", name, why);
	}
	card_diags_free(&d);
}

static void test_refused(void **state)
{
	(void)state;
	refused("cycle.yml", "goes round in a circle");
	refused("bad.yml", "nowhere is not in the file's networks");
	refused("bad.yml", "no service ghost");
	refused("bad.yml", "services.nothing: neither image nor build");
	refused("minimal.yml/none", ""); /* a file that is not there */
}

static void test_checked(void **state)
{
	(void)state;
	const char *files[] = {"shop.yml", "minimal.yml"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char dir[64];
		written_and_checked(files[i], dir, sizeof(dir));
		remove_tree(dir);
	}
}

/* A second run into the same directory writes nothing, and says which file is in the way. */
static void test_no_overwrite(void **state)
{
	(void)state;
	char dir[64];
	written_and_checked("minimal.yml", dir, sizeof(dir));
	char unit[128];
	snprintf(unit, sizeof(unit), "%s/cutip/cards/app/app.unit.yaml", dir);
	assert_int_equal(unlink(unit), 0);
	char *argv[] = {"from-compose", COMPOSE "minimal.yml", "-o", dir, NULL};
	FILE *err = tmpfile();
	assert_int_equal(compose_main(4, argv, stdout, err), 2);
	struct stat st;
	assert_int_equal(stat(unit, &st), -1); /* not written: all or nothing */
	char line[512] = "";
	rewind(err);
	assert_non_null(fgets(line, sizeof(line), err));
	assert_non_null(strstr(line, "File exists; nothing written"));
	fclose(err);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shop),	cmocka_unit_test(test_command_round_trip),
	    cmocka_unit_test(test_shlex_quote), cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_long_syntax), cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_checked),	cmocka_unit_test(test_no_overwrite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
