/* The cards of a foreign container (backends/adopt.c), from inspect documents Docker and Podman
 * wrote (tests/fixtures/inspect: busybox on a user network, with env, a label, a port on
 * 127.0.0.1, Docker's with a memory limit and a restart policy), and from variants with every
 * field a ContainerCard has: each card parses without a message and says what the container
 * is. No engine needed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canon.h"
#include "card.h"
#include "ws-int.h"

#define INSPECT FIXTURES "/inspect/"

static char *slurp(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), INSPECT "%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, out);
	fclose(f);
	fclose(out);
	return buf;
}

/* The card of kind generated from the documents, parsed: no error, no warning. */
static struct card *generated(const char *container, const char *network, enum card_kind kind)
{
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(ws_adopt_generate(container, network, kind, &text, &len), 0);
	struct card_diags d = {0};
	struct card *card = NULL;
	int rc = card_parse(text, len, "generated", &card, &d);
	if (rc != 0 || d.count)
		fail_msg("the generated card has %zu messages, first: %s\n%s", d.count,
			 d.count ? d.items[0].message : "", text);
	card_diags_free(&d);
	free(text);
	assert_int_equal(card->kind, kind);
	return card;
}

static const char *map_get(const struct card_map *m, const char *key)
{
	for (size_t i = 0; i < m->count; i++)
		if (strcmp(m->items[i].key, key) == 0)
			return m->items[i].value;
	return NULL;
}

/* The ContainerCard of a fixture's container (h1xfix, on the network h1xnet). */
static struct card *container_of(const char *fixture)
{
	char *doc = slurp(fixture);
	struct card *card = generated(doc, NULL, CARD_CONTAINER);
	free(doc);
	assert_string_equal(card->name.s, "h1xfix");
	assert_string_equal(card->spec.container.network_ref.s, "networks/h1xnet");
	assert_null(card->spec.container.network_mode);
	return card;
}

static void test_docker_container(void **state)
{
	(void)state;
	struct card *card = container_of("docker-container.json");
	const struct card_container_spec *c = &card->spec.container;

	assert_string_equal(c->image_ref.s, "images/h1xfix");
	assert_string_equal(c->command.s, "sleep 3600");
	/* The container port first, as cutipfs reads a card: the real mapping 80 -> 38123. */
	assert_int_equal(c->ports.count, 1);
	assert_string_equal(map_get(&c->ports, "80/tcp"), "38123");
	assert_int_equal(c->environment.count, 2);
	assert_string_equal(map_get(&c->environment, "GREETING"), "hello");
	assert_string_equal(map_get(&c->environment, "ODD"), "a b");
	assert_int_equal(c->labels.count, 1);
	assert_string_equal(map_get(&c->labels, "app.tier"), "web");
	assert_string_equal(c->restart_policy, "unless-stopped");
	assert_int_equal(c->resources.memory, 64LL << 20);
	assert_int_equal(c->resources.memory_swap, 128LL << 20);
	/* The hostname the engine made of the id is no card's. */
	assert_null(c->hostname);
	assert_null(c->workdir);
	card_free(card);
}

static void test_podman_container(void **state)
{
	(void)state;
	/* Podman says NetworkMode bridge for a container on a user network. */
	struct card *card = container_of("podman-container.json");
	const struct card_container_spec *c = &card->spec.container;

	assert_string_equal(map_get(&c->ports, "80/tcp"), "38124");
	/* PATH, HOME, HOSTNAME and TERM dropped, as CUTIP's adopt does; the rest kept. */
	assert_int_equal(c->environment.count, 2);
	assert_string_equal(map_get(&c->environment, "GREETING"), "hello");
	assert_string_equal(map_get(&c->environment, "container"), "podman");
	/* Podman's defaults (StopSignal 15, StopTimeout 0, WorkingDir /, no restart) are none. */
	assert_null(c->stop_signal);
	assert_false(c->has_stop_timeout);
	assert_null(c->workdir);
	assert_null(c->restart_policy);
	assert_int_equal(c->resources.pids, 0);
	card_free(card);
}

static void test_image(void **state)
{
	(void)state;
	const char *docs[] = {"docker-container.json", "podman-container.json"};
	for (size_t i = 0; i < 2; i++) {
		char *doc = slurp(docs[i]);
		struct card *card = generated(doc, NULL, CARD_IMAGE);
		/* Named after the container; the image as people write it (Podman's
		 * docker.io/library/ dropped). */
		assert_string_equal(card->name.s, "h1xfix");
		assert_string_equal(card->spec.image.source, "pull");
		assert_string_equal(card->spec.image.image, "cutipfs-busybox");
		assert_string_equal(card->spec.image.tag, "latest");
		card_free(card);
		free(doc);
	}
}

/* The NetworkCard of a fixture's container, with its network's document or (NULL) without. */
static void network_is(const char *container, const char *network, const char *subnet,
		       const char *gateway)
{
	char *doc = slurp(container), *net = network ? slurp(network) : NULL;
	struct card *card = generated(doc, net, CARD_NETWORK);
	assert_string_equal(card->name.s, "h1xnet");
	assert_string_equal(card->spec.network.subnet, subnet);
	if (gateway)
		assert_string_equal(card->spec.network.gateway, gateway);
	else
		assert_null(card->spec.network.gateway);
	card_free(card);
	free(doc);
	free(net);
}

static void test_network(void **state)
{
	(void)state;
	/* Docker's network document has no gateway (none was asked for). */
	network_is("docker-container.json", "docker-network.json", "10.231.7.0/24", NULL);
	/* Without the network's document: guessed from the address and prefix. */
	network_is("docker-container.json", NULL, "10.231.7.0/24", "10.231.7.1");
	network_is("podman-container.json", "podman-network.json", "10.231.8.0/24", "10.231.8.1");
}

static cJSON *item(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_non_null(v);
	return v;
}

static void replace(cJSON *o, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, v);
}

/* Every field a ContainerCard has, set in the Docker document. */
static char *everything(void)
{
	char *text = slurp("docker-container.json");
	cJSON *doc = cJSON_Parse(text);
	free(text);
	cJSON *config = item(doc, "Config"), *host = item(doc, "HostConfig");
	const char *cmd[] = {"sh", "-c", "echo 'hi there' \"$X\""};
	replace(config, "Cmd", cJSON_CreateStringArray(cmd, 3));
	replace(config, "Hostname", cJSON_CreateString("web1"));
	replace(config, "WorkingDir", cJSON_CreateString("/app"));
	replace(config, "User", cJSON_CreateString("1000:1000"));
	replace(config, "StopSignal", cJSON_CreateString("SIGINT"));
	replace(config, "StopTimeout", cJSON_CreateNumber(5));
	cJSON_AddStringToObject(item(config, "Labels"), "com.docker.compose.project", "x");
	cJSON_AddStringToObject(item(config, "Labels"), "org.opencontainers.image.title", "x");
	cJSON_AddStringToObject(item(config, "Labels"), "cutipfs.test", "x");
	cJSON *hc = cJSON_CreateObject();
	const char *test[] = {"CMD-SHELL", "true"};
	cJSON_AddItemToObject(hc, "Test", cJSON_CreateStringArray(test, 2));
	cJSON_AddNumberToObject(hc, "Interval", 30e9);
	cJSON_AddNumberToObject(hc, "Timeout", 1.5e9);
	cJSON_AddNumberToObject(hc, "StartPeriod", 250);
	cJSON_AddNumberToObject(hc, "Retries", 3);
	replace(config, "Healthcheck", hc);
	replace(host, "Privileged", cJSON_CreateTrue());
	const char *caps[] = {"NET_ADMIN"};
	replace(host, "CapAdd", cJSON_CreateStringArray(caps, 1));
	replace(host, "NanoCpus", cJSON_CreateNumber(1.5e9));
	replace(host, "PidsLimit", cJSON_CreateNumber(100));
	/* A port the engine picks has no card. */
	cJSON *any = cJSON_CreateArray(), *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "HostIp", "");
	cJSON_AddStringToObject(b, "HostPort", "");
	cJSON_AddItemToArray(any, b);
	cJSON_AddItemToObject(item(host, "PortBindings"), "53/udp", any);
	cJSON *mounts = cJSON_Parse(
	    "[{\"Type\":\"bind\",\"Source\":\"/srv/data\",\"Destination\":\"/data\",\"RW\":false},"
	    "{\"Type\":\"volume\",\"Name\":\"vol1\",\"Destination\":\"/var/lib/x\",\"RW\":true},"
	    "{\"Type\":\"volume\",\"Name\":\"ro1\",\"Destination\":\"/ro\",\"RW\":false},"
	    "{\"Type\":\"tmpfs\",\"Destination\":\"/tmp\",\"RW\":true}]");
	replace(doc, "Mounts", mounts);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

static void test_every_field(void **state)
{
	(void)state;
	char *doc = everything();
	struct card *card = generated(doc, NULL, CARD_CONTAINER);
	const struct card_container_spec *c = &card->spec.container;

	/* The command splits back into the words it was. */
	char **argv = card_shlex_split(c->command.s, NULL);
	assert_non_null(argv);
	assert_string_equal(argv[0], "sh");
	assert_string_equal(argv[1], "-c");
	assert_string_equal(argv[2], "echo 'hi there' \"$X\"");
	assert_null(argv[3]);
	card_argv_free(argv);
	assert_string_equal(c->hostname, "web1");
	assert_string_equal(c->workdir, "/app");
	assert_string_equal(c->user, "1000:1000");
	assert_string_equal(c->stop_signal, "SIGINT");
	assert_true(c->has_stop_timeout);
	assert_int_equal(c->stop_timeout, 5);
	assert_true(c->privileged);
	assert_int_equal(c->cap_add.count, 1);
	assert_string_equal(c->cap_add.items[0].s, "NET_ADMIN");
	assert_int_equal(c->resources.nano_cpus, 1500000000LL);
	assert_int_equal(c->resources.pids, 100);
	assert_int_equal(c->healthcheck.test.count, 2);
	assert_string_equal(c->healthcheck.test.items[1].s, "true");
	assert_int_equal(c->healthcheck.interval, 30000000000LL);
	assert_int_equal(c->healthcheck.timeout, 1500000000LL);
	assert_int_equal(c->healthcheck.start_period, 250);
	assert_int_equal(c->healthcheck.retries, 3);
	assert_int_equal(c->ports.count, 1);
	/* The engine's labels and the workspace's own are dropped. */
	assert_int_equal(c->labels.count, 1);
	/* Binds and read-only volumes are mounts, read-write volumes spec.volumes; tmpfs none. */
	assert_int_equal(c->mount_count, 2);
	assert_string_equal(c->mounts[0].type, "bind");
	assert_string_equal(c->mounts[0].source.s, "/srv/data");
	assert_string_equal(c->mounts[0].target.s, "/data");
	assert_true(c->mounts[0].read_only);
	assert_string_equal(c->mounts[1].type, "volume");
	assert_string_equal(c->mounts[1].source.s, "ro1");
	assert_true(c->mounts[1].read_only);
	assert_int_equal(c->volumes.count, 1);
	assert_string_equal(map_get(&c->volumes, "vol1"), "/var/lib/x");
	card_free(card);
	free(doc);
}

/* The canonical hash (what a take-over compares) is that of the card as a person would write
 * it: order and quoting do not count. */
static void test_hash_of_hand_written(void **state)
{
	(void)state;
	char *doc = slurp("docker-container.json");
	struct card *gen = generated(doc, NULL, CARD_CONTAINER), *hand = NULL;
	const char *text = "apiVersion: cutip/v1\n"
			   "kind: ContainerCard\n"
			   "metadata: {name: h1xfix}\n"
			   "spec:\n"
			   "  resources: {memory_swap: 128m, memory: 64m}\n"
			   "  restart_policy: unless-stopped\n"
			   "  labels: {app.tier: web}\n"
			   "  environment: {ODD: \"a b\", GREETING: hello}\n"
			   "  ports: {\"80/tcp\": \"38123\"}\n"
			   "  command: \"sleep 3600\"\n"
			   "  networkRef: {ref: networks/h1xnet}\n"
			   "  imageRef: {ref: images/h1xfix}\n";
	struct card_diags d = {0};
	assert_int_equal(card_parse(text, strlen(text), "hand", &hand, &d), 0);
	char a[65], b[65];
	assert_int_equal(card_hash(gen, a), 0);
	assert_int_equal(card_hash(hand, b), 0);
	assert_string_equal(a, b);
	card_free(hand);
	card_free(gen);
	card_diags_free(&d);
	free(doc);
}

static void test_refused(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(ws_adopt_generate("not json", NULL, CARD_CONTAINER, &text, &len), -EINVAL);
	assert_int_equal(ws_adopt_generate("[]", NULL, CARD_CONTAINER, &text, &len), -EINVAL);
	assert_int_equal(ws_adopt_generate("{\"Name\":\"/\"}", NULL, CARD_IMAGE, &text, &len),
			 -EINVAL);
	assert_int_equal(ws_adopt_generate(NULL, NULL, CARD_CONTAINER, &text, &len), -EINVAL);
	assert_null(text);
	/* On the default network only: a ContainerCard, no NetworkCard. */
	const char *plain = "{\"Name\":\"/solo\",\"Config\":{\"Image\":\"busybox\"},"
			    "\"NetworkSettings\":{\"Networks\":{\"bridge\":{}}}}";
	assert_int_equal(ws_adopt_generate(plain, NULL, CARD_NETWORK, &text, &len), -ENOENT);
	struct card *card = generated(plain, NULL, CARD_CONTAINER);
	assert_null(card->spec.container.network_ref.s);
	assert_null(card->spec.container.network_mode);
	card_free(card);
	/* On a user network without an address: no subnet to say. */
	const char *noaddr = "{\"Name\":\"/x\",\"NetworkSettings\":{\"Networks\":{\"n1\":{}}}}";
	assert_int_equal(ws_adopt_generate(noaddr, NULL, CARD_NETWORK, &text, &len), -ENOENT);
	assert_int_equal(ws_adopt_generate(plain, NULL, CARD_UNIT, &text, &len), -EINVAL);
	/* A label that is not UTF-8 (the engine keeps any bytes): no card, and the errno says why.
	 */
	const char *latin1 = "{\"Name\":\"/x\",\"Config\":{\"Labels\":{\"k\":\"caf\xe9\"}}}";
	assert_int_equal(ws_adopt_generate(latin1, NULL, CARD_CONTAINER, &text, &len), -EILSEQ);
	assert_null(text);
}

static void test_user_net(void **state)
{
	(void)state;
	char name[64];
	assert_true(ws_adopt_user_net("\nbridge\nzeta\nalpha\n", name, sizeof(name)));
	assert_string_equal(name, "alpha");
	assert_false(ws_adopt_user_net("\nbridge\npodman\nhost\n", name, sizeof(name)));
	assert_string_equal(name, "");
	assert_false(ws_adopt_user_net(NULL, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_container),
	    cmocka_unit_test(test_podman_container),
	    cmocka_unit_test(test_image),
	    cmocka_unit_test(test_network),
	    cmocka_unit_test(test_every_field),
	    cmocka_unit_test(test_hash_of_hand_written),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_user_net),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
