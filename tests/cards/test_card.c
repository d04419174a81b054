/* Card schema: every kind, good and bad, with CUTIP's exact messages, line and column. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"

/* Parses text as "t.yaml" and checks the diagnostics, one string per line, exactly. */
static struct card *expect(const char *text, int rc_expected, const char *const *lines)
{
	struct card_diags diags = {0};
	struct card *card = NULL;
	int rc = card_parse(text, strlen(text), "t.yaml", &card, &diags);
	size_t n = 0;
	while (lines && lines[n])
		n++;
	for (size_t i = 0; i < diags.count; i++) {
		char *got = card_diag_format(&diags.items[i]);
		if (i >= n || strcmp(got, lines[i]) != 0)
			fail_msg("diag %zu:\n  got:      %s\n  expected: %s", i, got,
				 i < n ? lines[i] : "(nothing)");
		free(got);
	}
	assert_int_equal(diags.count, n);
	assert_int_equal(rc, rc_expected);
	card_diags_free(&diags);
	return card;
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_image_pull_defaults(void **state)
{
	(void)state;
	struct card *c = expect("apiVersion: cutip/v1\n"
				"kind: ImageCard\n"
				"metadata:\n"
				"  name: alpine\n"
				"spec:\n"
				"  source: pull\n"
				"  image: docker.io/library/alpine\n",
				0, NULL);
	assert_non_null(c);
	assert_int_equal(c->kind, CARD_IMAGE);
	assert_string_equal(c->name.s, "alpine");
	assert_int_equal(c->name.line, 4);
	assert_int_equal(c->name.col, 9);
	assert_string_equal(c->spec.image.tag, "latest");
	assert_string_equal(c->spec.image.dockerfile, "Dockerfile");
	assert_null(c->spec.image.context);
	char *ref = card_ref_of(c);
	assert_string_equal(ref, "images/alpine");
	free(ref);
	card_free(c);
}

static void test_image_build_resources(void **state)
{
	(void)state;
	struct card *c = expect("apiVersion: cutip/v1\n"
				"kind: ImageCard\n"
				"metadata: {name: app}\n"
				"spec:\n"
				"  source: build\n"
				"  context: resources/app\n"
				"  build_args: {VERSION: \"1.2\"}\n"
				"  buildtime_resources:\n"
				"    - src: data/seed.sql\n"
				"    - src: scripts/\n"
				"      dest: s\n",
				0, NULL);
	assert_non_null(c);
	assert_int_equal(c->spec.image.resource_count, 2);
	assert_string_equal(c->spec.image.resources[0].dest, "seed.sql");
	assert_string_equal(c->spec.image.resources[1].dest, "s");
	assert_string_equal(c->spec.image.build_args.items[0].key, "VERSION");
	assert_string_equal(c->spec.image.build_args.items[0].value, "1.2");
	card_free(c);
	/* Path(src).name ignores a trailing slash */
	c = expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: app}\n"
		   "spec: {source: build, context: ., buildtime_resources: [{src: a/dir/}, "
		   "{src: a/.}, {src: .}, {src: //x//y//}]}\n",
		   0, NULL);
	assert_string_equal(c->spec.image.resources[0].dest, "dir");
	assert_string_equal(c->spec.image.resources[1].dest, "a");
	assert_string_equal(c->spec.image.resources[2].dest, "");
	assert_string_equal(c->spec.image.resources[3].dest, "y");
	card_free(c);
}

static void test_image_errors(void **state)
{
	(void)state;
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\nspec:\n  source: pull\n",
	       -1, LINES("t.yaml:5:3: error: spec: Value error, 'image' is required when source is 'pull'"));
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\nspec: {source: build}\n",
	       -1, LINES("t.yaml:4:7: error: spec: Value error, 'context' is required when source is 'build'"));
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\n"
	       "spec: {source: pull, image: x, buildtime_resources: [{src: y}]}\n",
	       -1, LINES("t.yaml:4:53: error: spec: Value error, 'buildtime_resources' is only valid when source is 'build'"));
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\nspec: {source: fetch}\n",
	       -1, LINES("t.yaml:4:16: error: spec.source: Input should be 'pull' or 'build'"));
	/* tag: 3.20 is a float to YAML; CUTIP refuses it, "3.20" is fine */
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\n"
	       "spec: {source: pull, image: alpine, tag: 3.20}\n",
	       -1, LINES("t.yaml:4:42: error: spec.tag: Input should be a valid string"));
	card_free(expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\n"
			 "spec: {source: pull, image: alpine, tag: \"3.20\"}\n",
			 0, NULL));
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\n"
	       "spec: {source: pull, image: alpine, tag: null}\n",
	       -1, LINES("t.yaml:4:42: error: spec.tag: Input should be a valid string"));
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\n"
	       "spec: {source: pull, image: alpine, build_args: {N: 1}}\n",
	       -1, LINES("t.yaml:4:53: error: spec.build_args.N: Input should be a valid string"));
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: Alpine}\n"
	       "spec: {source: pull, image: alpine}\n",
	       -1, LINES("t.yaml:3:18: error: metadata.name: 'Alpine' is not a valid image name: it must be lowercase"));
	expect("apiVersion: cutip/v1\nkind: ImageCard\nmetadata: {name: a}\n"
	       "spec: {source: pull, image: alpine, tag: \"-x\"}\n",
	       -1, LINES("t.yaml:4:42: error: spec.tag: '-x' is not a valid image tag: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'"));
}

static const char container_head[] = "apiVersion: cutip/v1\n"
				     "kind: ContainerCard\n"
				     "metadata:\n"
				     "  name: web\n"
				     "spec:\n"
				     "  imageRef: {ref: images/web}\n";

static struct card *expect_container(const char *rest, int rc, const char *const *lines)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", container_head, rest);
	return expect(text, rc, lines);
}

static void test_container_full(void **state)
{
	(void)state;
	struct card *c = expect_container("  networkRef: {ref: networks/app-net}\n"
					  "  command: \"sh -c 'echo hi; sleep 1000'\"\n"
					  "  hostname: web1\n"
					  "  workdir: /srv\n"
					  "  privileged: yes\n"
					  "  cap_add: [NET_ADMIN]\n"
					  "  security_opts: [\"label=disable\"]\n"
					  "  ports: {\"8080/tcp\": \"18080\", \"53/udp\": \"5353\"}\n"
					  "  environment: {MODE: prod, COUNT: \"3\"}\n"
					  "  mounts:\n"
					  "    - {type: bind, source: ./data, target: /data, read_only: true}\n"
					  "    - {type: volume, source: cache, target: /cache}\n"
					  "  volumes: {logs: /var/log/app}\n"
					  "  labels: {team: core}\n"
					  "  restart_policy: unless-stopped\n",
					  0, NULL);
	assert_non_null(c);
	struct card_container_spec *s = &c->spec.container;
	assert_string_equal(s->image_ref.s, "images/web");
	assert_int_equal(s->image_ref.line, 6);
	assert_int_equal(s->image_ref.col, 19);
	assert_string_equal(s->network_ref.s, "networks/app-net");
	assert_true(s->privileged);
	assert_int_equal(s->mount_count, 2);
	assert_true(s->mounts[0].read_only);
	assert_false(s->mounts[1].read_only);
	assert_false(s->mounts[0].create_host_path);
	assert_string_equal(s->ports.items[1].key, "53/udp");
	assert_string_equal(s->ports.items[1].value, "5353");
	assert_string_equal(s->environment.items[0].key, "MODE");
	assert_string_equal(s->restart_policy, "unless-stopped");
	card_free(c);
	/* neither networkRef nor network_mode: allowed since CUTIP 0.1.14 */
	c = expect_container("", 0, NULL);
	assert_null(c->spec.container.network_ref.s);
	assert_null(c->spec.container.network_mode);
	card_free(c);
}

static void test_container_errors(void **state)
{
	(void)state;
	expect_container("  networkRef: {ref: networks/n}\n  network_mode: host\n", -1,
			 LINES("t.yaml:6:3: error: spec: Value error, Only one of 'networkRef' or 'network_mode' may be provided, not both"));
	expect_container("  mounts:\n    - {type: rw, source: /a, target: /b}\n", -1,
			 LINES("t.yaml:8:14: error: spec.mounts.0.type: Input should be 'bind' or 'volume'"));
	expect_container("  mounts:\n    - {type: bind, target: /b}\n", -1,
			 LINES("t.yaml:8:7: error: spec.mounts.0.source: Field required"));
	expect_container("  mounts:\n    - /a:/b\n", -1,
			 LINES("t.yaml:8:7: error: spec.mounts.0: Input should be a valid dictionary or instance of MountSpec"));
	expect_container("  command: [sh, -c, true]\n", -1,
			 LINES("t.yaml:7:12: error: spec.command: Input should be a valid string"));
	expect_container("  environment:\n    DEBUG: true\n    PORT: 8080\n", -1,
			 LINES("t.yaml:8:12: error: spec.environment.DEBUG: Input should be a valid string",
			       "t.yaml:9:11: error: spec.environment.PORT: Input should be a valid string"));
	expect_container("  restart_policy: no\n", -1,
			 LINES("t.yaml:7:19: error: spec.restart_policy: Input should be a valid string"));
	expect_container("  restart_policy: \"sometimes\"\n", -1,
			 LINES("t.yaml:7:19: error: spec.restart_policy: 'sometimes' is not a restart policy: expected 'no', 'always', 'unless-stopped' or 'on-failure'"));
	expect_container("  privileged: maybe\n", -1,
			 LINES("t.yaml:7:15: error: spec.privileged: Input should be a valid boolean, unable to interpret input"));
	expect_container("  privileged: [x]\n", -1,
			 LINES("t.yaml:7:15: error: spec.privileged: Input should be a valid boolean"));
	expect_container("  ports: {8080: \"8080\"}\n", -1,
			 LINES("t.yaml:7:11: error: spec.ports.8080.[key]: Input should be a valid string"));
	expect_container("  ports: {\"http\": \"8080\", \"80/tcp\": \"70000\"}\n", -1,
			 LINES("t.yaml:7:11: error: spec.ports.http: 'http' is not a container port: expected PORT or PORT/tcp, PORT/udp, PORT/sctp with PORT from 1 to 65535",
			       "t.yaml:7:37: error: spec.ports.80/tcp: '70000' is not a host port: expected 1 to 65535"));
	expect_container("  cap_add: NET_ADMIN\n", -1,
			 LINES("t.yaml:7:12: error: spec.cap_add: Input should be a valid list"));
	expect_container("  cap_add: [NET_ADMIN, 5]\n", -1,
			 LINES("t.yaml:7:24: error: spec.cap_add.1: Input should be a valid string"));
	expect_container("  command: \"sh -c 'echo\"\n", -1,
			 LINES("t.yaml:7:12: error: spec.command: No closing quotation"));
	expect_container("  mounts: [{type: bind, source: /a, target: data}]\n", -1,
			 LINES("t.yaml:7:45: error: spec.mounts.0.target: 'data' is not an absolute path inside the container"));
	expect_container("  mounts: [{type: volume, source: ./data, target: /d}]\n", -1,
			 LINES("t.yaml:7:35: error: spec.mounts.0.source: './data' is not a valid volume name: it must start with a letter or digit"));
	expect_container("  volumes: {\"my vol\": /data}\n", -1,
			 LINES("t.yaml:7:12: error: spec.volumes.my vol: 'my vol' is not a valid volume name: it contains a space"));
	expect("apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: web}\nspec:\n  imageRef: images/web\n",
	       -1, LINES("t.yaml:5:13: error: spec.imageRef: Input should be a valid dictionary or instance of Ref"));
	expect("apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: web}\nspec: {networkRef: {ref: networks/x}}\n",
	       -1, LINES("t.yaml:4:7: error: spec.imageRef: Field required"));
	expect("apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: web}\nspec:\n  imageRef: {}\n",
	       -1, LINES("t.yaml:5:13: error: spec.imageRef.ref: Field required"));
}

static void test_unknown_keys_warn(void **state)
{
	(void)state;
	struct card *c = expect_container(
		"  mounts:\n"
		"    - type: bind\n"
		"      source: /srv\n"
		"      target: /srv\n"
		"      mode: ro\n"
		"  enviroment: {A: b}\n"
		"  env: {A: b}\n"
		"  flavour: spicy\n",
		0,
		LINES("t.yaml:11:7: warning: spec.mounts.0.mode: unknown field, ignored (use 'read_only: true' for a read-only mount)",
		      "t.yaml:12:3: warning: spec.enviroment: unknown field, ignored (did you mean 'environment'?)",
		      "t.yaml:13:3: warning: spec.env: unknown field, ignored (the field is 'environment')",
		      "t.yaml:14:3: warning: spec.flavour: unknown field, ignored"));
	assert_non_null(c);
	assert_false(c->spec.container.mounts[0].read_only);
	card_free(c);
	c = expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n, owner: me}\n"
		   "spec: {subnet: 10.1.0.0/24}\nstatus: {}\n",
		   0,
		   LINES("t.yaml:3:21: warning: metadata.owner: unknown field, ignored",
			 "t.yaml:5:1: warning: status: unknown field, ignored"));
	card_free(c);
}

static void test_network(void **state)
{
	(void)state;
	struct card *c = expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: app-net}\n"
				"spec: {subnet: 10.89.1.7/24}\n",
				0, NULL);
	assert_string_equal(c->spec.network.driver, "bridge");
	assert_null(c->spec.network.gateway);
	card_free(c);
	card_free(expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\n"
			 "spec: {subnet: 10.0.0.0/255.255.0.0, gateway: 10.0.200.1}\n",
			 0, NULL));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\nspec: {subnet: 10.0.0.0/33}\n",
	       -1, LINES("t.yaml:4:16: error: spec: Value error, 'subnet' is not a valid CIDR: 10.0.0.0/33"));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\nspec: {subnet: \"fd00::/64\"}\n",
	       -1, LINES("t.yaml:4:16: error: spec: Value error, 'subnet' is not a valid CIDR: fd00::/64"));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\nspec: {subnet: 010.0.0.0/8}\n",
	       -1, LINES("t.yaml:4:16: error: spec: Value error, 'subnet' is not a valid CIDR: 010.0.0.0/8"));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\n"
	       "spec: {subnet: 10.0.0.0/24, gateway: 10.0.0.256}\n",
	       -1, LINES("t.yaml:4:38: error: spec: Value error, 'gateway' is not a valid IPv4 address: 10.0.0.256"));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\n"
	       "spec: {subnet: 10.0.0.0/24, gateway: 10.0.1.1}\n",
	       -1, LINES("t.yaml:4:38: error: spec: Value error, 'gateway' 10.0.1.1 is not within subnet 10.0.0.0/24"));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\nspec: {driver: bridge}\n",
	       -1, LINES("t.yaml:4:7: error: spec.subnet: Field required"));
}

static void test_volume_unit_group(void **state)
{
	(void)state;
	struct card *c = expect("apiVersion: cutip/v1\nkind: VolumeCard\nmetadata: {name: data}\nspec: {}\n",
				0, NULL);
	assert_string_equal(c->spec.volume.driver, "local");
	card_free(c);
	c = expect("apiVersion: cutip/v1\nkind: Unit\nmetadata: {name: web}\n"
		   "spec:\n  containerRef: {ref: containers/web}\n  hooks: {prehook: pre.py}\n",
		   0, NULL);
	assert_string_equal(c->spec.unit.container_ref.s, "containers/web");
	assert_string_equal(c->spec.unit.prehook, "pre.py");
	assert_null(c->spec.unit.posthook);
	card_free(c);
	c = expect("apiVersion: cutip/v1\nkind: Group\nmetadata: {name: stack}\n"
		   "spec:\n  units:\n    - ref: units/db\n    - ref: units/web\n",
		   0, NULL);
	assert_int_equal(c->spec.group.units.count, 2);
	assert_string_equal(c->spec.group.units.items[1].s, "units/web");
	assert_int_equal(c->spec.group.units.items[1].line, 7);
	assert_string_equal(c->spec.group.workflow, "workflow.py");
	assert_string_equal(c->spec.group.orchestrator, "orchestrator.py");
	card_free(c);
	expect("apiVersion: cutip/v1\nkind: Group\nmetadata: {name: g}\nspec:\n  units: [units/db]\n",
	       -1, LINES("t.yaml:5:11: error: spec.units.0: Input should be a valid dictionary or instance of Ref"));
	expect("apiVersion: cutip/v1\nkind: Group\nmetadata: {name: g}\nspec: {workflow: w.py}\n",
	       -1, LINES("t.yaml:4:7: error: spec.units: Field required"));
	expect("apiVersion: cutip/v1\nkind: Unit\nmetadata: {name: u}\nspec: {}\n",
	       -1, LINES("t.yaml:4:7: error: spec.containerRef: Field required"));
}

static void test_envelope(void **state)
{
	(void)state;
	expect("- a\n- b\n", -1, LINES("t.yaml:1:1: error: Expected a YAML mapping at the top level"));
	expect("", -1, LINES("t.yaml:1:1: error: Expected a YAML mapping at the top level"));
	expect("apiVersion: cutip/v1\nmetadata: {name: a}\n", -1,
	       LINES("t.yaml:1:1: error: Missing required field 'kind'"));
	expect("apiVersion: cutip/v1\nkind: \"\"\n", -1,
	       LINES("t.yaml:2:7: error: Missing required field 'kind'"));
	expect("apiVersion: cutip/v1\nkind: PodCard\n", -1,
	       LINES("t.yaml:2:7: error: Unknown kind 'PodCard'. Known kinds: ImageCard, ContainerCard, NetworkCard, VolumeCard, Unit, Group"));
	expect("apiVersion: v1\nkind: NetworkCard\nspec: {subnet: 10.0.0.0/8}\n", -1,
	       LINES("t.yaml:1:1: error: metadata: Field required",
		     "t.yaml:1:13: error: apiVersion: Value error, apiVersion must be 'cutip/v1', got 'v1'"));
	expect("kind: NetworkCard\nmetadata: {name: n}\nspec: {subnet: 10.0.0.0/8}\n", -1,
	       LINES("t.yaml:1:1: error: apiVersion: Field required"));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: n}\nspec: 5\n", -1,
	       LINES("t.yaml:4:7: error: spec: Input should be a valid dictionary or instance of NetworkSpec"));
	expect("apiVersion: cutip/v1\nkind: NetworkCard\nmetadata: {name: 5}\nspec: {subnet: 10.0.0.0/8}\n", -1,
	       LINES("t.yaml:3:18: error: metadata.name: Input should be a valid string"));
}

static void test_names(void **state)
{
	(void)state;
	static const struct {
		const char *name, *why;
	} bad[] = {
		{"\"/\"", "it must start with a letter or digit"},
		{"\"..\"", "it must start with a letter or digit"},
		{"\"a/b\"", "it contains '/'"},
		{"\"a b\"", "it contains a space"},
		{"\"a\\tb\"", "it contains a control character"},
		{"\"-a\"", "it must start with a letter or digit"},
		{"\"\"", "it is empty"},
		{"\"a123456789012345678901234567890123456789012345678901234567890123\"",
		 "it is longer than 63 characters"},
		{"\"caf\u00e9\"", "only letters, digits, '_', '.' and '-' are allowed"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], line[512];
		snprintf(text, sizeof(text),
			 "apiVersion: cutip/v1\nkind: VolumeCard\nmetadata: {name: %s}\nspec: {}\n",
			 bad[i].name);
		struct card_diags diags = {0};
		struct card *card = NULL;
		assert_int_equal(card_parse(text, strlen(text), "t.yaml", &card, &diags), -1);
		assert_int_equal(diags.count, 1);
		snprintf(line, sizeof(line), "is not a valid name: %s", bad[i].why);
		if (!strstr(diags.items[0].message, line))
			fail_msg("%s: %s", bad[i].name, diags.items[0].message);
		card_diags_free(&diags);
	}
	const char *why = NULL;
	assert_true(card_name_valid("web-1.prod_a", &why));
	assert_true(card_name_valid("a12345678901234567890123456789012345678901234567890123456789012", &why));
}

static void test_bool_forms(void **state)
{
	(void)state;
	static const char *const truthy[] = {"true", "yes", "on", "\"t\"", "\"Y\"", "1", "1.0",
					     "0x1", "+1", "01", "0b1"};
	static const char *const falsy[] = {"false", "no", "off", "\"F\"", "\"n\"", "0", "0x0"};
	for (size_t i = 0; i < 11 + 7; i++) {
		bool want = i < 11;
		const char *v = want ? truthy[i] : falsy[i - 11];
		char rest[128];
		snprintf(rest, sizeof(rest), "  privileged: %s\n", v);
		struct card *c = expect_container(rest, 0, NULL);
		if (c->spec.container.privileged != want)
			fail_msg("privileged: %s", v);
		card_free(c);
	}
	expect_container("  privileged: 2\n", -1,
			 LINES("t.yaml:7:15: error: spec.privileged: Input should be a valid boolean, unable to interpret input"));
	/* 60^11 is past any 64-bit integer: read without overflow, and simply not 0 or 1. */
	expect_container("  privileged: 1:0:0:0:0:0:0:0:0:0:0:0\n", -1,
			 LINES("t.yaml:7:15: error: spec.privileged: Input should be a valid boolean, unable to interpret input"));
}

/* The limits, cutipfs's own: sizes, durations and CPUs as the docker CLI writes them. */
typedef int parse_fn(const char *text, long long *out);

static void parses(parse_fn *fn, const char *text, long long want)
{
	long long v = -1;
	if (fn(text, &v) != 0 || v != want)
		fail_msg("'%s' gave %lld, want %lld", text, v, want);
}

static void refuses(parse_fn *fn, const char *text)
{
	long long v;
	if (fn(text, &v) == 0)
		fail_msg("'%s' was taken", text);
}

static void test_quantities(void **state)
{
	(void)state;
	parses(card_parse_bytes, "512m", 512LL << 20);
	parses(card_parse_bytes, "512mb", 512LL << 20);
	parses(card_parse_bytes, "1g", 1LL << 30);
	parses(card_parse_bytes, "1.5G", 3LL << 29);
	parses(card_parse_bytes, "100", 100);
	parses(card_parse_bytes, "64k", 64 << 10);
	parses(card_parse_bytes, "7b", 7);
	parses(card_parse_bytes, "2t", 2LL << 40);
	static const char *const bad_sizes[] = {"", "m", "12x", "1.2.3", "-5", "5 m", "1gbb"};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++)
		refuses(card_parse_bytes, bad_sizes[i]);
	parses(card_parse_duration, "30s", 30000000000LL);
	parses(card_parse_duration, "1m30s", 90000000000LL);
	parses(card_parse_duration, "500ms", 500000000);
	parses(card_parse_duration, "1.5s", 1500000000);
	parses(card_parse_duration, "2h", 7200000000000LL);
	parses(card_parse_duration, "0", 0);
	parses(card_parse_duration, "10us", 10000);
	parses(card_parse_duration, "3ns", 3);
	static const char *const bad_durations[] = {"", "30", "s", "1x", "1m30", "-1s", "1 s"};
	for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++)
		refuses(card_parse_duration, bad_durations[i]);
	parses(card_parse_cpus, "1.5", 1500000000LL);
	parses(card_parse_cpus, "0.001", 1000000);
	refuses(card_parse_cpus, "two");
	refuses(card_parse_cpus, "1,5");
}

static void test_container_limits(void **state)
{
	(void)state;
	struct card *c = expect_container("  resources: {memory: 512m, memory_swap: -1, cpus: 1.5,"
					  " pids: 100}\n"
					  "  healthcheck:\n"
					  "    test: curl -f localhost\n"
					  "    interval: 30s\n"
					  "    timeout: 5s\n"
					  "    retries: 3\n"
					  "    start_period: 1m\n"
					  "  user: \"1000:1000\"\n"
					  "  stop_signal: SIGINT\n"
					  "  stop_timeout: 20\n",
					  0, NULL);
	struct card_container_spec *s = &c->spec.container;
	assert_true(s->resources.memory == 512LL << 20);
	assert_true(s->resources.memory_swap == -1);
	assert_true(s->resources.nano_cpus == 1500000000LL);
	assert_true(s->resources.pids == 100);
	assert_int_equal(s->healthcheck.test.count, 2);
	assert_string_equal(s->healthcheck.test.items[0].s, "CMD-SHELL");
	assert_string_equal(s->healthcheck.test.items[1].s, "curl -f localhost");
	assert_true(s->healthcheck.interval == 30000000000LL);
	assert_true(s->healthcheck.timeout == 5000000000LL);
	assert_true(s->healthcheck.start_period == 60000000000LL);
	assert_true(s->healthcheck.retries == 3);
	assert_string_equal(s->user, "1000:1000");
	assert_string_equal(s->stop_signal, "SIGINT");
	assert_true(s->has_stop_timeout && s->stop_timeout == 20);
	card_free(c);
	/* Without them: nothing set. */
	c = expect_container("", 0, NULL);
	s = &c->spec.container;
	assert_true(!s->resources.memory && !s->resources.nano_cpus && !s->healthcheck.test.count &&
		    !s->user && !s->stop_signal && !s->has_stop_timeout);
	card_free(c);
	/* A list test as written; a number of bytes as a YAML int. */
	c = expect_container("  healthcheck: {test: [CMD, pg_isready, -U, app]}\n"
			     "  resources: {memory: 67108864}\n",
			     0, NULL);
	assert_int_equal(c->spec.container.healthcheck.test.count, 4);
	assert_true(c->spec.container.resources.memory == 67108864);
	card_free(c);

	expect_container("  resources: {memory: 12x, cpus: 0, pids: 0}\n", -1,
			 LINES("t.yaml:7:23: error: spec.resources.memory: Input should be a size: bytes, or a number with b, k, m or g (512m)",
			       "t.yaml:7:34: error: spec.resources.cpus: Input should be a number of CPUs greater than 0 (1.5)",
			       "t.yaml:7:43: error: spec.resources.pids: Input should be at least 1, or -1 for no limit"));
	expect_container("  resources: {memory: 1g, memory_swap: 512m}\n", -1,
			 LINES("t.yaml:7:40: error: spec.resources.memory_swap: memory_swap is memory plus swap: it cannot be less than memory"));
	expect_container("  resources: {memory_swap: 1g}\n", -1,
			 LINES("t.yaml:7:28: error: spec.resources.memory_swap: memory_swap needs memory (it is memory plus swap)"));
	expect_container("  healthcheck: {test: [curl, x], interval: 30}\n", -1,
			 LINES("t.yaml:7:23: error: spec.healthcheck.test: a list starts with CMD (then the command's words), CMD-SHELL (then one shell command) or NONE",
			       "t.yaml:7:44: error: spec.healthcheck.interval: Input should be a duration with its unit (30s, 1m30s, 500ms)"));
	expect_container("  healthcheck: {interval: 1s}\n", -1,
			 LINES("t.yaml:7:16: error: spec.healthcheck.test: Field required"));
	expect_container("  stop_signal: SIGTREM\n", -1,
			 LINES("t.yaml:7:16: error: spec.stop_signal: 'SIGTREM' is not a signal (SIGTERM, INT, 15)"));
	expect_container("  labels: {cutipfs.card: x}\n", -1,
			 LINES("t.yaml:7:11: error: spec.labels: 'cutipfs.card': labels starting with cutipfs. are cutipfs's own"));
}

/* spec.replicas, cutipfs's own field for the swarm backend: an int >= 0 read as pydantic's
 * lax mode reads one, a bool excepted; unset unless written, and then read as 1. */
static void test_container_replicas(void **state)
{
	(void)state;
	struct card *c = expect_container("", 0, NULL);
	assert_false(c->spec.container.has_replicas);
	assert_int_equal(c->spec.container.replicas, 0);
	assert_int_equal(card_container_replicas(&c->spec.container), 1);
	card_free(c);
	/* null is the same as leaving it out, as for CUTIP's other optional fields */
	c = expect_container("  replicas: null\n", 0, NULL);
	assert_false(c->spec.container.has_replicas);
	assert_int_equal(card_container_replicas(&c->spec.container), 1);
	card_free(c);

	static const struct {
		const char *yaml;
		unsigned value;
	} good[] = {
	    {"0", 0},		{"1", 1},	{"5", 5},	  {"\"7\"", 7},
	    {"\" 8 \"", 8},	{"\"+9\"", 9},	{"\"010\"", 10},  {"\"1_000\"", 1000},
	    {"\"3.00\"", 3},	{"3.0", 3},	{"-0.0", 0},	  {"1_000", 1000},
	    {"0x10", 16},	{"010", 8},	{"0b101", 5},	  {"+4", 4},
	    {"1:30", 90},	{"!!int 6", 6}, {"!!float 2", 2}, {"4294967295", 4294967295u},
	    {"\"\\t3\\n\"", 3}, {"\"-0\"", 0},	{"\"00\"", 0},	  {"\"1_000.00\"", 1000},
	    {"\"1_0_0\"", 100}, {"\"0.0\"", 0}, {"1_0.0", 10},	  {"1:30.0", 90},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char rest[128];
		snprintf(rest, sizeof(rest), "  replicas: %s\n", good[i].yaml);
		c = expect_container(rest, 0, NULL);
		if (!c->spec.container.has_replicas || c->spec.container.replicas != good[i].value)
			fail_msg("replicas: %s gave %u, want %u", good[i].yaml,
				 c->spec.container.replicas, good[i].value);
		assert_int_equal(card_container_replicas(&c->spec.container), good[i].value);
		card_free(c);
	}

	static const struct {
		const char *yaml, *message; /* the message after "spec.replicas: " */
	} bad[] = {
	    {"-1", "Input should be greater than or equal to 0"},
	    {"-1.0", "Input should be greater than or equal to 0"},
	    {"\"-2\"", "Input should be greater than or equal to 0"},
	    {"-99999999999999999999", "Input should be greater than or equal to 0"},
	    {"4294967296", "Input should be less than or equal to 4294967295"},
	    {"99999999999999999999999", "Input should be less than or equal to 4294967295"},
	    {"1:0:0:0:0:0:0:0:0:0:0:0", "Input should be less than or equal to 4294967295"},
	    {"-1:0:0:0:0:0:0:0:0:0:0:0", "Input should be greater than or equal to 0"},
	    {"1.0e+30", "Unable to parse input string as an integer, exceeded maximum size"},
	    {"-1.0e+19", "Unable to parse input string as an integer, exceeded maximum size"},
	    {"three", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"3.\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"1__0\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"_1\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"1_\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"+-3\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"0x10\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"3.0e0\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"3.0_0\"", "Input should be a valid integer, unable to parse string as an integer"},
	    {"0o7", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\" -3\"", "Input should be greater than or equal to 0"},
	    {"1e3", "Input should be a valid integer, unable to parse string as an integer"},
	    {"\"{{ paths.n }}\"",
	     "Input should be a valid integer, unable to parse string as an integer"},
	    {"1.5", "Input should be a valid integer, got a number with a fractional part"},
	    {"-0.5", "Input should be a valid integer, got a number with a fractional part"},
	    {".inf", "Input should be a finite number"},
	    {".nan", "Input should be a finite number"},
	    {"true", "Input should be a valid integer"},
	    {"yes", "Input should be a valid integer"},
	    {"[1, 2]", "Input should be a valid integer"},
	    {"{n: 3}", "Input should be a valid integer"},
	    {"2024-01-01", "Input should be a valid integer"},
	    {"!!int x", "Input should be a valid integer"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rest[128], line[256];
		snprintf(rest, sizeof(rest), "  replicas: %s\n", bad[i].yaml);
		snprintf(line, sizeof(line), "t.yaml:7:13: error: spec.replicas: %s",
			 bad[i].message);
		assert_null(expect_container(rest, -1, LINES(line)));
	}
	/* In a block list the value starts on the next line. */
	expect_container(
	    "  replicas:\n    - 3\n", -1,
	    LINES("t.yaml:8:5: error: spec.replicas: Input should be a valid integer"));

	/* The key is known (no warning), and near misses point at it. */
	c = expect_container(
	    "  replicas: 2\n  replica: 3\n  scale: 3\n  deploy: {replicas: 3}\n", 0,
	    LINES(
		"t.yaml:8:3: warning: spec.replica: unknown field, ignored (did you mean "
		"'replicas'?)",
		"t.yaml:9:3: warning: spec.scale: unknown field, ignored (the field is 'replicas')",
		"t.yaml:10:3: warning: spec.deploy: unknown field, ignored (write the replica "
		"count as 'replicas: N' directly in spec)"));
	assert_int_equal(c->spec.container.replicas, 2);
	card_free(c);
	/* Only a ContainerCard has it. */
	card_free(expect("apiVersion: cutip/v1\nkind: Unit\nmetadata: {name: u}\n"
			 "spec: {containerRef: {ref: containers/web}, replicas: 3}\n",
			 0, LINES("t.yaml:4:45: warning: spec.replicas: unknown field, ignored")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_pull_defaults),
		cmocka_unit_test(test_image_build_resources),
		cmocka_unit_test(test_image_errors),
		cmocka_unit_test(test_container_full),
		cmocka_unit_test(test_container_errors),
		cmocka_unit_test(test_unknown_keys_warn),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_volume_unit_group),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bool_forms),
		cmocka_unit_test(test_container_replicas),
		cmocka_unit_test(test_quantities),
		cmocka_unit_test(test_container_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
