/* card_canonical_json and card_hash, through card_parse: cards that mean the same hash the same
 * however they are written, any change of any field changes the hash, and the exact JSON and
 * SHA-256 of known cards are pinned. The pinned strings and digests were computed outside this
 * code, with Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) on
 * hand-written dicts and hashlib.sha256, so a change in defaults, key order, shape or hashing
 * shows up here rather than as every running object looking stale after an upgrade. */
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
#include "diag.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static struct card *parse_or_fail(const char *text, const char *what)
{
	struct card_diags diags = {0};
	struct card *card = NULL;
	int rc = card_parse(text, strlen(text), "test.yaml", &card, &diags);
	if (rc != 0 || !card) {
		fprintf(stderr, "# card_parse failed for %s:\n", what);
		card_diags_print(&diags, stderr);
		fprintf(stderr, "# text:\n%s\n", text);
		card_diags_free(&diags);
		fail_msg("card_parse failed for %s", what);
	}
	card_diags_free(&diags);
	return card;
}

static char *json_of(const char *text, const char *what)
{
	struct card *card = parse_or_fail(text, what);
	char *json = card_canonical_json(card);
	card_free(card);
	assert_non_null(json);
	return json;
}

static void hash_of(const char *text, const char *what, char out[65])
{
	struct card *card = parse_or_fail(text, what);
	assert_int_equal(card_hash(card, out), 0);
	card_free(card);
}

/* Counts occurrences of needle in hay. */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* base with its one occurrence of from replaced by to; malloc'd. */
static char *replace_once(const char *base, const char *from, const char *to)
{
	if (count_of(base, from) != 1)
		fail_msg("mutation source '%s' occurs %zu times in its base, not once", from,
			 count_of(base, from));
	const char *at = strstr(base, from);
	size_t head = (size_t)(at - base), from_len = strlen(from), to_len = strlen(to);
	char *out = malloc(strlen(base) - from_len + to_len + 1);
	assert_non_null(out);
	memcpy(out, base, head);
	memcpy(out + head, to, to_len);
	strcpy(out + head + to_len, at + from_len);
	return out;
}

/* ---- the cards -------------------------------------------------------------------------- */

static const char MINIMAL_IMAGE[] = "apiVersion: cutip/v1\n"
				    "kind: ImageCard\n"
				    "metadata:\n"
				    "  name: web\n"
				    "spec:\n"
				    "  source: pull\n"
				    "  image: docker.io/library/nginx\n";

/* sha256 0c4ec380375c79c2aaf283e60e2447d9ccb629e6fa636423bfa773f9629d745a */
static const char MINIMAL_IMAGE_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"ImageCard\",\"metadata\":{\"labels\":{},\"name\":"
    "\"web\"},\"spec\":{\"build_args\":{},\"buildtime_dir\":null,\"buildtime_resources\":[],"
    "\"context\":null,\"dockerfile\":\"Dockerfile\",\"image\":\"docker.io/library/nginx\","
    "\"network_mode\":null,\"source\":\"pull\",\"tag\":\"latest\"}}";

static const char BUILD_IMAGE[] = "apiVersion: cutip/v1\n"
				  "kind: ImageCard\n"
				  "metadata:\n"
				  "  name: app\n"
				  "spec:\n"
				  "  source: build\n"
				  "  tag: \"1.0\"\n"
				  "  context: ./app\n"
				  "  build_args:\n"
				  "    B: \"2\"\n"
				  "    A: \"1\"\n"
				  "  buildtime_resources:\n"
				  "    - src: certs/ca.pem\n"
				  "    - src: /etc/x/conf.d\n"
				  "      dest: conf\n"
				  "  network_mode: host\n";

/* sha256 324c619726807d2a4eaa2f645d92473b330421bfe2c30a8c71144fc03b9e24a8 */
static const char BUILD_IMAGE_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"ImageCard\",\"metadata\":{\"labels\":{},\"name\":"
    "\"app\"},\"spec\":{\"build_args\":{\"A\":\"1\",\"B\":\"2\"},\"buildtime_dir\":null,"
    "\"buildtime_resources\":[{\"dest\":\"ca.pem\",\"src\":\"certs/ca.pem\"},{\"dest\":"
    "\"conf\",\"src\":\"/etc/x/conf.d\"}],\"context\":\"./app\",\"dockerfile\":\"Dockerfile\","
    "\"image\":null,\"network_mode\":\"host\",\"source\":\"build\",\"tag\":\"1.0\"}}";

static const char FULL_CONTAINER[] = "apiVersion: cutip/v1\n"
				     "kind: ContainerCard\n"
				     "metadata:\n"
				     "  name: web\n"
				     "  labels:\n"
				     "    tier: front\n"
				     "    app: shop\n"
				     "spec:\n"
				     "  imageRef: {ref: images/web}\n"
				     "  networkRef: {ref: networks/backend}\n"
				     "  command: \"sh -c 'exec nginx -g \\\"daemon off;\\\"'\"\n"
				     "  hostname: web1\n"
				     "  workdir: /srv\n"
				     "  privileged: true\n"
				     "  cap_add: [NET_ADMIN, SYS_TIME]\n"
				     "  security_opts: [\"label=disable\"]\n"
				     "  ports:\n"
				     "    \"8080/tcp\": \"80\"\n"
				     "    \"443/tcp\": \"8443\"\n"
				     "  environment:\n"
				     "    Z_LAST: \"z\"\n"
				     "    A_FIRST: \"caf\xc3\xa9 \\\"quoted\\\" back\\\\slash\"\n"
				     "    MULTI: \"line1\\nline2\"\n"
				     "  mounts:\n"
				     "    - type: bind\n"
				     "      source: ./data\n"
				     "      target: /data\n"
				     "      read_only: true\n"
				     "    - type: volume\n"
				     "      source: cache\n"
				     "      target: /cache\n"
				     "      create_host_path: true\n"
				     "  volumes:\n"
				     "    logs: /var/log/nginx\n"
				     "  labels:\n"
				     "    owner: ops\n"
				     "  restart_policy: always\n";

/* sha256 f6a14f29bb81d464b10ddd8aedc2fefe82e39aff2d0229106f677f4d6ca42207 */
static const char FULL_CONTAINER_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"ContainerCard\",\"metadata\":{\"labels\":{"
    "\"app\":\"shop\",\"tier\":\"front\"},\"name\":\"web\"},\"spec\":{\"cap_add\":["
    "\"NET_ADMIN\",\"SYS_TIME\"],\"command\":\"sh -c 'exec nginx -g \\\"daemon off;\\\"'\","
    "\"environment\":{\"A_FIRST\":\"caf\303\251 \\\"quoted\\\" back\\\\slash\",\"MULTI\":"
    "\"line1\\nline2\",\"Z_LAST\":\"z\"},\"hostname\":\"web1\",\"imageRef\":{\"ref\":"
    "\"images/web\"},\"labels\":{\"owner\":\"ops\"},\"mounts\":[{\"create_host_path\":false,"
    "\"read_only\":true,\"source\":\"./data\",\"target\":\"/data\",\"type\":\"bind\"},{"
    "\"create_host_path\":true,\"read_only\":false,\"source\":\"cache\",\"target\":"
    "\"/cache\",\"type\":\"volume\"}],\"networkRef\":{\"ref\":\"networks/backend\"},"
    "\"network_mode\":null,\"ports\":{\"443/tcp\":\"8443\",\"8080/tcp\":\"80\"},\"privileged\":"
    "true,\"restart_policy\":\"always\",\"security_opts\":[\"label=disable\"],\"volumes\":{"
    "\"logs\":\"/var/log/nginx\"},\"workdir\":\"/srv\"}}";

static const char MINIMAL_CONTAINER[] = "apiVersion: cutip/v1\n"
					"kind: ContainerCard\n"
					"metadata:\n"
					"  name: db\n"
					"spec:\n"
					"  imageRef:\n"
					"    ref: images/pg\n";

/* sha256 62a76db74f564ff5fa53d3f7ea405dfe49ff04857af44d1f99d610337d41c886 */
static const char MINIMAL_CONTAINER_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"ContainerCard\",\"metadata\":{\"labels\":{},"
    "\"name\":\"db\"},\"spec\":{\"cap_add\":[],\"command\":null,\"environment\":{},"
    "\"hostname\":null,\"imageRef\":{\"ref\":\"images/pg\"},\"labels\":{},\"mounts\":[],"
    "\"networkRef\":null,\"network_mode\":null,\"ports\":{},\"privileged\":false,"
    "\"restart_policy\":null,\"security_opts\":[],\"volumes\":{},\"workdir\":null}}";

static const char MINIMAL_NETWORK[] = "apiVersion: cutip/v1\n"
				      "kind: NetworkCard\n"
				      "metadata:\n"
				      "  name: backend\n"
				      "spec:\n"
				      "  subnet: 10.89.0.0/24\n";

/* sha256 d256f90ab4b12f6db94d4da2344535ae2a14a9f9710c8494b46742f6c39d1692 */
static const char MINIMAL_NETWORK_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"NetworkCard\",\"metadata\":{\"labels\":{},"
    "\"name\":\"backend\"},\"spec\":{\"driver\":\"bridge\",\"gateway\":null,\"subnet\":"
    "\"10.89.0.0/24\"}}";

static const char MINIMAL_VOLUME[] = "apiVersion: cutip/v1\n"
				     "kind: VolumeCard\n"
				     "metadata:\n"
				     "  name: cache\n"
				     "spec: {}\n";

/* sha256 e438068357c718c4b17a85a0596e7d32a1942a77d0fd3f7de91bdcc6763b848f */
static const char MINIMAL_VOLUME_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"VolumeCard\",\"metadata\":{\"labels\":{},"
    "\"name\":\"cache\"},\"spec\":{\"driver\":\"local\",\"labels\":{},\"options\":{}}}";

static const char MINIMAL_UNIT[] = "apiVersion: cutip/v1\n"
				   "kind: Unit\n"
				   "metadata:\n"
				   "  name: web\n"
				   "spec:\n"
				   "  containerRef:\n"
				   "    ref: containers/web\n";

/* sha256 8d8952d2d1d9fdd1ab040594495521e8f886870f58bdb2bc5cf0c83e53aa87d5 */
static const char MINIMAL_UNIT_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"Unit\",\"metadata\":{\"labels\":{},\"name\":"
    "\"web\"},\"spec\":{\"containerRef\":{\"ref\":\"containers/web\"},\"hooks\":{"
    "\"posthook\":null,\"prehook\":null}}}";

static const char MINIMAL_GROUP[] = "apiVersion: cutip/v1\n"
				    "kind: Group\n"
				    "metadata:\n"
				    "  name: shop\n"
				    "spec:\n"
				    "  units:\n"
				    "    - ref: units/db\n"
				    "    - ref: units/web\n";

/* sha256 4d2ae18b0fba8628ba6177f144ff1f481d29f171093d3052433a4d9497e5f650 */
static const char MINIMAL_GROUP_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"Group\",\"metadata\":{\"labels\":{},\"name\":"
    "\"shop\"},\"spec\":{\"orchestrator\":\"orchestrator.py\",\"units\":[{\"ref\":"
    "\"units/db\"},{\"ref\":\"units/web\"}],\"workflow\":\"workflow.py\"}}";

struct pinned {
	const char *name;
	const char *yaml;
	const char *json;
	const char *sha256;
};

static const struct pinned pinned_cards[] = {
    {"minimal image", MINIMAL_IMAGE, MINIMAL_IMAGE_JSON,
     "0c4ec380375c79c2aaf283e60e2447d9ccb629e6fa636423bfa773f9629d745a"},
    {"build image", BUILD_IMAGE, BUILD_IMAGE_JSON,
     "324c619726807d2a4eaa2f645d92473b330421bfe2c30a8c71144fc03b9e24a8"},
    {"full container", FULL_CONTAINER, FULL_CONTAINER_JSON,
     "f6a14f29bb81d464b10ddd8aedc2fefe82e39aff2d0229106f677f4d6ca42207"},
    {"minimal container", MINIMAL_CONTAINER, MINIMAL_CONTAINER_JSON,
     "62a76db74f564ff5fa53d3f7ea405dfe49ff04857af44d1f99d610337d41c886"},
    {"minimal network", MINIMAL_NETWORK, MINIMAL_NETWORK_JSON,
     "d256f90ab4b12f6db94d4da2344535ae2a14a9f9710c8494b46742f6c39d1692"},
    {"minimal volume", MINIMAL_VOLUME, MINIMAL_VOLUME_JSON,
     "e438068357c718c4b17a85a0596e7d32a1942a77d0fd3f7de91bdcc6763b848f"},
    {"minimal unit", MINIMAL_UNIT, MINIMAL_UNIT_JSON,
     "8d8952d2d1d9fdd1ab040594495521e8f886870f58bdb2bc5cf0c83e53aa87d5"},
    {"minimal group", MINIMAL_GROUP, MINIMAL_GROUP_JSON,
     "4d2ae18b0fba8628ba6177f144ff1f481d29f171093d3052433a4d9497e5f650"},
};

/* ---- same meaning, other spelling ------------------------------------------------------- */

/* Each group: the first text is the reference, every other one must give the same JSON. */
static const char *const image_same[] = {
    MINIMAL_IMAGE,
    /* flow style, keys shuffled at every level, mixed quoting */
    "{spec: {image: \"docker.io/library/nginx\", source: 'pull'}, kind: \"ImageCard\",\n"
    " metadata: {name: web}, apiVersion: 'cutip/v1'}\n",
    /* every default written out, comments, unknown keys at three levels */
    "# an image card\n"
    "apiVersion: \"cutip/v1\"   # the only version\n"
    "kind: ImageCard\n"
    "metadata:\n"
    "  labels: {}\n"
    "  annotations: {x: y}\n"
    "  name: \"web\"\n"
    "spec:\n"
    "  tag: latest\n"
    "  dockerfile: Dockerfile\n"
    "  build_args: {}\n"
    "  buildtime_dir: null\n"
    "  network_mode: ~\n"
    "  context:\n"
    "  source: pull\n"
    "  image: docker.io/library/nginx\n"
    "  extra_field: 42\n"
    "status: {ready: true}\n",
    /* an empty resource list is the default too */
    "apiVersion: cutip/v1\n"
    "kind: ImageCard\n"
    "metadata: {name: web}\n"
    "spec: {source: pull, image: docker.io/library/nginx, buildtime_resources: []}\n",
    /* anchors, aliases and a merge key */
    "x-defaults: &defaults\n"
    "  source: pull\n"
    "  tag: &t latest\n"
    "x-image: &img docker.io/library/nginx\n"
    "apiVersion: cutip/v1\n"
    "kind: ImageCard\n"
    "metadata:\n"
    "  name: web\n"
    "spec:\n"
    "  <<: *defaults\n"
    "  image: *img\n"
    "  x-tag: *t\n",
    /* block scalars, escapes in double quotes, single quotes */
    "apiVersion: 'cutip/v1'\n"
    "kind: \"Image\\x43ard\"\n"
    "metadata:\n"
    "  name: >-\n"
    "    web\n"
    "spec:\n"
    "  source: |-\n"
    "    pull\n"
    "  image: \"docker.io/library/ngin\\x78\"\n"
    "  tag: 'latest'\n",
    /* CRLF line ends, explicit document markers, odd indentation */
    "---\r\n"
    "apiVersion: cutip/v1\r\n"
    "kind: ImageCard\r\n"
    "metadata:\r\n"
    "      name: web\r\n"
    "spec:\r\n"
    "      image: docker.io/library/nginx\r\n"
    "      source: pull\r\n"
    "...\r\n",
    NULL,
};

static const char *const build_image_same[] = {
    BUILD_IMAGE,
    /* dest written as its default basename(src); build_args in flow style, other order */
    "apiVersion: cutip/v1\n"
    "kind: ImageCard\n"
    "metadata: {name: app, labels: {}}\n"
    "spec:\n"
    "  network_mode: host\n"
    "  buildtime_resources:\n"
    "  - {src: certs/ca.pem, dest: ca.pem}\n"
    "  - {dest: conf, src: /etc/x/conf.d}\n"
    "  build_args: {A: \"1\", B: \"2\"}\n"
    "  context: ./app\n"
    "  dockerfile: Dockerfile\n"
    "  tag: '1.0'\n"
    "  source: build\n",
    NULL,
};

static const char *const container_same[] = {
    FULL_CONTAINER,
    /* shuffled everywhere, flow mounts, defaults written, YAML 1.1 booleans, unknown keys
     * (the documented-but-ignored mounts[].mode among them), single-quoted command */
    "kind: ContainerCard\n"
    "spec:\n"
    "  restart_policy: always\n"
    "  labels: {owner: ops}\n"
    "  volumes: {logs: /var/log/nginx}\n"
    "  mounts:\n"
    "  - {target: /data, source: ./data, type: bind, read_only: yes, create_host_path: no,"
    " mode: ro}\n"
    "  - {create_host_path: True, read_only: false, target: /cache, type: volume, "
    "source: cache}\n"
    "  environment:\n"
    "    MULTI: |-\n"
    "      line1\n"
    "      line2\n"
    "    A_FIRST: 'caf\xc3\xa9 \"quoted\" back\\slash'\n"
    "    Z_LAST: z\n"
    "  ports: {'443/tcp': '8443', '8080/tcp': '80'}\n"
    "  security_opts:\n"
    "    - label=disable\n"
    "  cap_add:\n"
    "    - NET_ADMIN\n"
    "    - SYS_TIME\n"
    "  privileged: on\n"
    "  workdir: \"/srv\"\n"
    "  hostname: 'web1'\n"
    "  command: 'sh -c ''exec nginx -g \"daemon off;\"'''\n"
    "  network_mode: null\n"
    "  networkRef:\n"
    "    ref: networks/backend\n"
    "  imageRef:\n"
    "    ref: \"images/web\"\n"
    "  unknown: {nested: [1, 2]}\n"
    "metadata:\n"
    "  labels: {app: shop, tier: front}\n"
    "  name: web\n"
    "apiVersion: cutip/v1\n",
    /* environment through a merge key whose value the card then overrides */
    "x-env: &env\n"
    "  Z_LAST: \"not this\"\n"
    "  MULTI: \"line1\\nline2\"\n"
    "apiVersion: cutip/v1\n"
    "kind: ContainerCard\n"
    "metadata:\n"
    "  name: web\n"
    "  labels: {tier: front, app: shop}\n"
    "spec:\n"
    "  imageRef: {ref: images/web}\n"
    "  networkRef: {ref: networks/backend}\n"
    "  command: \"sh -c 'exec nginx -g \\\"daemon off;\\\"'\"\n"
    "  hostname: web1\n"
    "  workdir: /srv\n"
    "  privileged: true\n"
    "  cap_add: [NET_ADMIN, SYS_TIME]\n"
    "  security_opts: [\"label=disable\"]\n"
    "  ports: {\"8080/tcp\": \"80\", \"443/tcp\": \"8443\"}\n"
    "  environment:\n"
    "    <<: *env\n"
    "    Z_LAST: \"z\"\n"
    "    A_FIRST: \"caf\\u00e9 \\\"quoted\\\" back\\\\slash\"\n"
    "  mounts: [{type: bind, source: ./data, target: /data, read_only: true},\n"
    "           {type: volume, source: cache, target: /cache, create_host_path: true}]\n"
    "  volumes: {logs: /var/log/nginx}\n"
    "  labels: {owner: ops}\n"
    "  restart_policy: always\n",
    NULL,
};

static const char *const minimal_container_same[] = {
    MINIMAL_CONTAINER,
    "apiVersion: cutip/v1\n"
    "kind: ContainerCard\n"
    "metadata: {name: db, labels: {}}\n"
    "spec:\n"
    "  imageRef: {ref: images/pg}\n"
    "  networkRef: null\n"
    "  network_mode: null\n"
    "  command: null\n"
    "  hostname: null\n"
    "  workdir: null\n"
    "  privileged: false\n"
    "  cap_add: []\n"
    "  security_opts: []\n"
    "  ports: {}\n"
    "  environment: {}\n"
    "  mounts: []\n"
    "  volumes: {}\n"
    "  labels: {}\n"
    "  restart_policy: null\n",
    NULL,
};

static const char *const network_same[] = {
    MINIMAL_NETWORK,
    "{apiVersion: cutip/v1, kind: NetworkCard, metadata: {name: backend},\n"
    " spec: {gateway: null, driver: bridge, subnet: \"10.89.0.0/24\"}}\n",
    NULL,
};

static const char *const volume_same[] = {
    MINIMAL_VOLUME,
    "apiVersion: cutip/v1\n"
    "kind: VolumeCard\n"
    "metadata:\n"
    "  name: cache\n"
    "spec:\n"
    "  options: {}\n"
    "  driver: local\n"
    "  labels: {}\n",
    NULL,
};

static const char *const unit_same[] = {
    MINIMAL_UNIT,
    "apiVersion: cutip/v1\n"
    "kind: Unit\n"
    "metadata: {name: web}\n"
    "spec: {containerRef: {ref: containers/web}, hooks: {}}\n",
    "apiVersion: cutip/v1\n"
    "kind: Unit\n"
    "metadata: {name: web}\n"
    "spec:\n"
    "  hooks:\n"
    "    posthook: ~\n"
    "    prehook: null\n"
    "  containerRef: {ref: 'containers/web', note: unknown}\n",
    NULL,
};

static const char *const group_same[] = {
    MINIMAL_GROUP,
    "apiVersion: cutip/v1\n"
    "kind: Group\n"
    "metadata: {name: shop}\n"
    "spec:\n"
    "  orchestrator: orchestrator.py\n"
    "  workflow: workflow.py\n"
    "  units: [{ref: units/db}, {ref: units/web}]\n",
    NULL,
};

static void check_same(const char *const *texts, const char *group)
{
	char *ref_json = json_of(texts[0], group);
	char ref_hash[65];
	hash_of(texts[0], group, ref_hash);
	for (size_t i = 1; texts[i]; i++) {
		char what[64];
		snprintf(what, sizeof(what), "%s variant %zu", group, i);
		char *json = json_of(texts[i], what);
		if (strcmp(json, ref_json) != 0) {
			fprintf(stderr, "# %s\n# want %s\n# got  %s\n", what, ref_json, json);
			fail_msg("%s: canonical JSON differs from the reference", what);
		}
		char hash[65];
		hash_of(texts[i], what, hash);
		assert_string_equal(hash, ref_hash);
		free(json);
	}
	free(ref_json);
}

static void test_same_meaning_same_hash(void **state)
{
	(void)state;
	check_same(image_same, "image");
	check_same(build_image_same, "build image");
	check_same(container_same, "container");
	check_same(minimal_container_same, "minimal container");
	check_same(network_same, "network");
	check_same(volume_same, "volume");
	check_same(unit_same, "unit");
	check_same(group_same, "group");
}

/* PyYAML keeps the last of a repeated key, so CUTIP does too; warnings aside, the card must
 * mean the same as one with the key written once. */
static void test_duplicate_keys_last_wins(void **state)
{
	(void)state;
	static const char *const dup_map[] = {
	    "apiVersion: cutip/v1\n"
	    "kind: VolumeCard\n"
	    "metadata: {name: cache}\n"
	    "spec:\n"
	    "  labels: {a: \"2\"}\n",
	    "apiVersion: cutip/v1\n"
	    "kind: VolumeCard\n"
	    "metadata: {name: cache}\n"
	    "spec:\n"
	    "  labels:\n"
	    "    a: \"1\"\n"
	    "    a: \"2\"\n",
	    NULL,
	};
	static const char *const dup_scalar[] = {
	    "apiVersion: cutip/v1\n"
	    "kind: NetworkCard\n"
	    "metadata: {name: backend}\n"
	    "spec: {subnet: 10.89.0.0/24, driver: macvlan}\n",
	    "apiVersion: cutip/v1\n"
	    "kind: NetworkCard\n"
	    "metadata: {name: backend}\n"
	    "spec:\n"
	    "  driver: bridge\n"
	    "  subnet: 10.89.0.0/24\n"
	    "  driver: macvlan\n",
	    NULL,
	};
	check_same(dup_map, "duplicate map key");
	check_same(dup_scalar, "duplicate scalar key");
}

static void test_pinned_json_and_hash(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pinned_cards) / sizeof(pinned_cards[0]); i++) {
		const struct pinned *p = &pinned_cards[i];
		char *json = json_of(p->yaml, p->name);
		if (strcmp(json, p->json) != 0) {
			fprintf(stderr, "# %s\n# want %s\n# got  %s\n", p->name, p->json, json);
			fail_msg("%s: canonical JSON differs from the pinned string", p->name);
		}
		free(json);
		char hash[65];
		hash_of(p->yaml, p->name, hash);
		assert_string_equal(hash, p->sha256);
	}
}

/* ---- every change shows ----------------------------------------------------------------- */

struct mutation {
	const char *from;
	const char *to;
};

struct mutated_base {
	const char *name;
	const char *base;
	const struct mutation *mutations; /* ends with from == NULL */
};

static const char NETWORK_BASE[] = "apiVersion: cutip/v1\n"
				   "kind: NetworkCard\n"
				   "metadata:\n"
				   "  name: backend\n"
				   "spec:\n"
				   "  driver: macvlan\n"
				   "  subnet: 10.89.0.0/24\n"
				   "  gateway: 10.89.0.1\n";

static const char VOLUME_BASE[] = "apiVersion: cutip/v1\n"
				  "kind: VolumeCard\n"
				  "metadata:\n"
				  "  name: cache\n"
				  "spec:\n"
				  "  driver: local\n"
				  "  labels: {a: \"1\"}\n"
				  "  options: {o: \"x\"}\n";

static const char UNIT_BASE[] = "apiVersion: cutip/v1\n"
				"kind: Unit\n"
				"metadata:\n"
				"  name: web\n"
				"spec:\n"
				"  containerRef: {ref: containers/web}\n"
				"  hooks:\n"
				"    prehook: pre.py\n"
				"    posthook: post.py\n";

static const char GROUP_BASE[] =
    "apiVersion: cutip/v1\n"
    "kind: Group\n"
    "metadata:\n"
    "  name: shop\n"
    "spec:\n"
    "  units: [{ref: units/db}, {ref: units/web}, {ref: units/cache}]\n"
    "  workflow: flow.py\n"
    "  orchestrator: orch.py\n";

static const struct mutation image_mutations[] = {
    {"  name: web\n", "  name: web2\n"},
    {"  name: web\n", "  name: web\n  labels: {a: b}\n"},
    {"source: pull\n", "source: build\n  context: .\n"},
    {"  image: docker.io/library/nginx\n", "  image: docker.io/library/nginx\n  tag: \"1\"\n"},
    {"library/nginx", "library/nginx2"},
    {"  image: docker.io/library/nginx\n", "  image: docker.io/library/nginx\n  context: ./web\n"},
    {"  image: docker.io/library/nginx\n",
     "  image: docker.io/library/nginx\n  dockerfile: Dockerfile.dev\n"},
    {"  image: docker.io/library/nginx\n",
     "  image: docker.io/library/nginx\n  build_args: {A: \"1\"}\n"},
    {"  image: docker.io/library/nginx\n",
     "  image: docker.io/library/nginx\n  buildtime_dir: /tmp/bt\n"},
    {"  image: docker.io/library/nginx\n",
     "  image: docker.io/library/nginx\n  network_mode: host\n"},
    {NULL, NULL},
};

static const struct mutation build_image_mutations[] = {
    {"  name: app\n", "  name: app2\n"},
    {"  name: app\n", "  name: app\n  labels: {A: \"1\"}\n"},
    {"tag: \"1.0\"", "tag: \"1.00\""},
    {"context: ./app", "context: ./app/"},
    {"  context: ./app\n", "  context: ./app\n  dockerfile: Dockerfile.dev\n"},
    {"  context: ./app\n", "  context: ./app\n  image: registry.local/app\n"},
    {"B: \"2\"", "B: \"3\""},
    {"B: \"2\"", "C: \"2\""},
    {"    A: \"1\"\n", "    A: \"1\"\n    C: \"3\"\n"},
    {"    A: \"1\"\n", ""},
    {"    - src: certs/ca.pem\n    - src: /etc/x/conf.d\n      dest: conf\n",
     "    - src: /etc/x/conf.d\n      dest: conf\n    - src: certs/ca.pem\n"},
    {"src: certs/ca.pem", "src: certs/ca.crt"},
    {"    - src: certs/ca.pem\n", "    - src: certs/ca.pem\n      dest: ca.crt\n"},
    {"dest: conf", "dest: conf.d"},
    {"    - src: certs/ca.pem\n", ""},
    {"  network_mode: host\n", "  network_mode: host\n  buildtime_dir: /tmp/bt\n"},
    {"network_mode: host", "network_mode: none"},
    {"  network_mode: host\n", ""},
    {NULL, NULL},
};

static const struct mutation container_mutations[] = {
    {"  name: web\n", "  name: web2\n"},
    {"tier: front", "tier: back"},
    {"tier: front", "tiers: front"},
    {"    app: shop\n", "    app: shop\n    x: y\n"},
    {"    app: shop\n", ""},
    {"images/web", "images/web2"},
    {"networks/backend", "networks/frontend"},
    {"  networkRef: {ref: networks/backend}\n", ""},
    {"  networkRef: {ref: networks/backend}\n", "  network_mode: host\n"},
    {"daemon off;", "daemon on;"},
    {"exec nginx", "exec  nginx"}, /* the same argv, but the card says something else */
    {"hostname: web1", "hostname: web2"},
    {"  hostname: web1\n", ""},
    {"workdir: /srv", "workdir: /srv/"},
    {"privileged: true", "privileged: false"},
    {"[NET_ADMIN, SYS_TIME]", "[SYS_TIME, NET_ADMIN]"},
    {"[NET_ADMIN, SYS_TIME]", "[NET_ADMIN]"},
    {"[NET_ADMIN, SYS_TIME]", "[NET_ADMIN, SYS_TIME, NET_ADMIN]"},
    {"[NET_ADMIN, SYS_TIME]", "[]"},
    {"[\"label=disable\"]", "[\"seccomp=unconfined\"]"},
    {"[\"label=disable\"]", "[]"},
    {"\"8080/tcp\": \"80\"", "\"8080/tcp\": \"81\""},
    {"\"8080/tcp\": \"80\"", "\"8080/udp\": \"80\""},
    {"    \"443/tcp\": \"8443\"\n", ""},
    {"Z_LAST: \"z\"", "Z_LAST: \"Z\""},
    {"Z_LAST: \"z\"", "Z_LAST: \"z \""},
    {"Z_LAST: \"z\"", "Z_LAST: \"\""},
    {"Z_LAST: \"z\"", "Z_LAST2: \"z\""},
    {"line1\\nline2", "line1\\nline2\\n"},
    {"    - type: bind\n      source: ./data\n", "    - type: volume\n      source: data\n"},
    {"    - type: volume\n", "    - type: bind\n"},
    {"source: ./data", "source: ./data2"},
    {"target: /data", "target: /data2"},
    {"      read_only: true\n", ""},
    {"      create_host_path: true\n", ""},
    {"      create_host_path: true\n", "      create_host_path: true\n      read_only: true\n"},
    {"      target: /data\n", "      target: /data\n      create_host_path: true\n"},
    {"    - type: bind\n      source: ./data\n      target: /data\n      read_only: true\n"
     "    - type: volume\n      source: cache\n      target: /cache\n"
     "      create_host_path: true\n",
     "    - type: volume\n      source: cache\n      target: /cache\n"
     "      create_host_path: true\n"
     "    - type: bind\n      source: ./data\n      target: /data\n      read_only: true\n"},
    {"logs: /var/log/nginx", "logs: /var/log"},
    {"logs: /var/log/nginx", "log: /var/log/nginx"},
    {"owner: ops", "owner: dev"},
    {"    owner: ops\n", "    owner: ops\n    tier: front\n"},
    {"restart_policy: always", "restart_policy: on-failure"},
    {"  restart_policy: always\n", ""},
    {NULL, NULL},
};

/* clang-format off */
static const struct mutation network_mutations[] = {
	{"name: backend", "name: backend2"},
	{"driver: macvlan", "driver: bridge"},
	{"10.89.0.0/24", "10.89.0.0/23"},
	{"gateway: 10.89.0.1", "gateway: 10.89.0.2"},
	{"  gateway: 10.89.0.1\n", ""},
	{NULL, NULL},
};
/* clang-format on */

static const struct mutation volume_mutations[] = {
    {"name: cache", "name: cache2"},
    {"driver: local", "driver: nfs"},
    {"labels: {a: \"1\"}", "labels: {a: \"2\"}"},
    {"labels: {a: \"1\"}", "labels: {}"},
    {"options: {o: \"x\"}", "options: {o: \"y\"}"},
    {"options: {o: \"x\"}", "options: {}"},
    /* the same pair in the other map */
    {"  labels: {a: \"1\"}\n  options: {o: \"x\"}\n",
     "  labels: {o: \"x\"}\n  options: {a: \"1\"}\n"},
    {NULL, NULL},
};

static const struct mutation unit_mutations[] = {
    {"name: web", "name: web2"},
    {"containers/web", "containers/web2"},
    {"prehook: pre.py", "prehook: pre2.py"},
    {"posthook: post.py", "posthook: post2.py"},
    {"    prehook: pre.py\n", ""},
    {"    posthook: post.py\n", ""},
    {"    prehook: pre.py\n    posthook: post.py\n",
     "    prehook: post.py\n    posthook: pre.py\n"},
    {NULL, NULL},
};

static const struct mutation group_mutations[] = {
    {"name: shop", "name: shop2"},
    {"[{ref: units/db}, {ref: units/web}, {ref: units/cache}]",
     "[{ref: units/web}, {ref: units/db}, {ref: units/cache}]"},
    {"[{ref: units/db}, {ref: units/web}, {ref: units/cache}]",
     "[{ref: units/db}, {ref: units/web}]"},
    {"units/cache", "units/cache2"},
    {"workflow: flow.py", "workflow: flow2.py"},
    {"  workflow: flow.py\n", ""},
    {"orchestrator: orch.py", "orchestrator: orch2.py"},
    {"  orchestrator: orch.py\n", ""},
    /* the two file names swapped */
    {"  workflow: flow.py\n  orchestrator: orch.py\n",
     "  workflow: orch.py\n  orchestrator: flow.py\n"},
    {NULL, NULL},
};

static const struct mutated_base mutated_bases[] = {
    {"image", MINIMAL_IMAGE, image_mutations},
    {"build image", BUILD_IMAGE, build_image_mutations},
    {"container", FULL_CONTAINER, container_mutations},
    {"network", NETWORK_BASE, network_mutations},
    {"volume", VOLUME_BASE, volume_mutations},
    {"unit", UNIT_BASE, unit_mutations},
    {"group", GROUP_BASE, group_mutations},
};

struct hashed {
	char what[96];
	char hash[65];
	char *json;
};

/* Hashes every base and every mutation of it, then requires all of them to differ pairwise:
 * not only from their own base, but from each other and from every other kind's cards. */
static void test_every_change_changes_hash(void **state)
{
	(void)state;
	size_t cap = 0;
	for (size_t b = 0; b < sizeof(mutated_bases) / sizeof(mutated_bases[0]); b++) {
		cap++;
		for (const struct mutation *m = mutated_bases[b].mutations; m->from; m++)
			cap++;
	}
	struct hashed *all = calloc(cap, sizeof(*all));
	assert_non_null(all);
	size_t n = 0;
	for (size_t b = 0; b < sizeof(mutated_bases) / sizeof(mutated_bases[0]); b++) {
		const struct mutated_base *mb = &mutated_bases[b];
		snprintf(all[n].what, sizeof(all[n].what), "%s base", mb->name);
		hash_of(mb->base, all[n].what, all[n].hash);
		all[n].json = json_of(mb->base, all[n].what);
		n++;
		for (size_t i = 0; mb->mutations[i].from; i++) {
			const struct mutation *m = &mb->mutations[i];
			char *text = replace_once(mb->base, m->from, m->to);
			snprintf(all[n].what, sizeof(all[n].what), "%s mutation %zu", mb->name, i);
			hash_of(text, all[n].what, all[n].hash);
			all[n].json = json_of(text, all[n].what);
			free(text);
			n++;
		}
	}
	assert_int_equal(n, cap);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strlen(all[i].hash), 64);
		assert_int_equal(strspn(all[i].hash, "0123456789abcdef"), 64);
		for (size_t j = i + 1; j < n; j++) {
			if (strcmp(all[i].hash, all[j].hash) == 0) {
				fprintf(stderr, "# %s: %s\n# %s: %s\n", all[i].what, all[i].json,
					all[j].what, all[j].json);
				fail_msg("%s and %s hash the same", all[i].what, all[j].what);
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		free(all[i].json);
	free(all);
}

/* ---- replicas: there only when written ------------------------------------------------- */

/* MINIMAL_CONTAINER with replicas: 3; the JSON and digest from Python as above. */
static const char REPLICAS_CONTAINER_JSON[] =
    "{\"apiVersion\":\"cutip/v1\",\"kind\":\"ContainerCard\",\"metadata\":{\"labels\":{},"
    "\"name\":\"db\"},\"spec\":{\"cap_add\":[],\"command\":null,\"environment\":{},"
    "\"hostname\":null,\"imageRef\":{\"ref\":\"images/pg\"},\"labels\":{},\"mounts\":[],"
    "\"networkRef\":null,\"network_mode\":null,\"ports\":{},\"privileged\":false,"
    "\"replicas\":3,\"restart_policy\":null,\"security_opts\":[],\"volumes\":{},"
    "\"workdir\":null}}";
#define REPLICAS_CONTAINER_SHA256 "0ffc3b2cfd974a9e71cf9227c9372988130b5c50c375257ee2ca7e70071817c6"

static const char *pinned_hash(const char *name)
{
	for (size_t i = 0; i < sizeof(pinned_cards) / sizeof(pinned_cards[0]); i++)
		if (strcmp(pinned_cards[i].name, name) == 0)
			return pinned_cards[i].sha256;
	fail_msg("no pinned card '%s'", name);
	return NULL;
}

/* The limits came after every card in use was hashed too: without them a card keeps its pinned
 * hash; with them it hashes by their values, however they are spelled (512m is 536870912). */
static void test_limits_hash(void **state)
{
	(void)state;
	static const char *const with[] = {
	    "  resources: {memory: 512m}\n", "  resources: {memory: 536870912}\n",
	    "  resources: {memory: 1g}\n",   "  healthcheck: {test: \"true\"}\n",
	    "  user: app\n",		     "  stop_signal: INT\n",
	    "  stop_timeout: 5\n",	     NULL};
	char hashes[8][65];
	for (size_t i = 0; with[i]; i++) {
		char to[128];
		snprintf(to, sizeof(to), "    ref: images/pg\n%s", with[i]);
		char *text = replace_once(MINIMAL_CONTAINER, "    ref: images/pg\n", to);
		hash_of(text, with[i], hashes[i]);
		if (strcmp(hashes[i], pinned_hash("minimal container")) == 0)
			fail_msg("%s did not change the hash", with[i]);
		free(text);
	}
	assert_string_equal(hashes[0], hashes[1]);
	for (size_t i = 2; with[i]; i++)
		for (size_t j = 0; j < i; j++)
			if (j != 1 && strcmp(hashes[i], hashes[j]) == 0)
				fail_msg("%s and %s hash the same", with[i], with[j]);
}

/* replicas came after every card in use was hashed: a card without it (or with null) keeps
 * the hash pinned above, one with it hashes by its value, however that value is spelled. */
static void test_replicas_hash(void **state)
{
	(void)state;
	char hash[65];
	static const char *const unset[] = {
	    MINIMAL_CONTAINER,
	    "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: db}\n"
	    "spec: {imageRef: {ref: images/pg}, replicas: null}\n",
	    "apiVersion: cutip/v1\nkind: ContainerCard\nmetadata: {name: db}\n"
	    "spec: {imageRef: {ref: images/pg}, replicas: ~}\n",
	    NULL,
	};
	for (size_t i = 0; unset[i]; i++) {
		char *json = json_of(unset[i], "container without replicas");
		assert_string_equal(json, MINIMAL_CONTAINER_JSON);
		assert_null(strstr(json, "replicas"));
		free(json);
		hash_of(unset[i], "container without replicas", hash);
		assert_string_equal(hash, pinned_hash("minimal container"));
	}
	hash_of(FULL_CONTAINER, "full container", hash);
	assert_string_equal(hash, pinned_hash("full container"));

	char *text = replace_once(MINIMAL_CONTAINER, "    ref: images/pg\n",
				  "    ref: images/pg\n  replicas: 3\n");
	char *json = json_of(text, "replicas: 3");
	assert_string_equal(json, REPLICAS_CONTAINER_JSON);
	free(json);
	hash_of(text, "replicas: 3", hash);
	assert_string_equal(hash, REPLICAS_CONTAINER_SHA256);
	free(text);

	/* The same 3 in every spelling the schema takes. */
	static const char *const three[] = {"3",  "\"3\"", "3.0",     "\"3.00\"", "0x3", "0b11",
					    "03", "+3",	   "!!int 3", "\" 3 \"",  NULL};
	for (size_t i = 0; three[i]; i++) {
		char to[64];
		snprintf(to, sizeof(to), "    ref: images/pg\n  replicas: %s\n", three[i]);
		text = replace_once(MINIMAL_CONTAINER, "    ref: images/pg\n", to);
		hash_of(text, three[i], hash);
		if (strcmp(hash, REPLICAS_CONTAINER_SHA256) != 0)
			fail_msg("replicas: %s hashes as %s, not as 3", three[i], hash);
		free(text);
	}

	/* Every value apart from every other, from unset, and from the full card's. 1 too: it
	 * runs what unset runs, but the card says so, and leaving unset alone is what keeps
	 * the old hashes. */
	static const char *const values[] = {"0", "1", "2", "5", "4294967295", NULL};
	const char *bases[] = {MINIMAL_CONTAINER, FULL_CONTAINER};
	const char *anchors[] = {"    ref: images/pg\n", "  restart_policy: always\n"};
	char all[2 * 6][65];
	size_t n = 0;
	for (size_t b = 0; b < 2; b++) {
		hash_of(bases[b], "base", all[n++]);
		for (size_t i = 0; values[i]; i++) {
			char to[96];
			snprintf(to, sizeof(to), "%s  replicas: %s\n", anchors[b], values[i]);
			text = replace_once(bases[b], anchors[b], to);
			hash_of(text, values[i], all[n++]);
			free(text);
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(all[i], all[j]) == 0)
				fail_msg("hashes %zu and %zu are the same", i, j);
}

/* The struct alone: has_replicas decides, whatever the value field holds. */
static void test_struct_replicas(void **state)
{
	(void)state;
	struct card card;
	memset(&card, 0, sizeof(card));
	card.kind = CARD_CONTAINER;
	card.name.s = "db";
	card.spec.container.image_ref.s = "images/pg";
	card.spec.container.replicas = 7; /* not given: ignored */
	char *json = card_canonical_json(&card);
	assert_string_equal(json, MINIMAL_CONTAINER_JSON);
	free(json);
	assert_int_equal(card_container_replicas(&card.spec.container), 1);
	card.spec.container.has_replicas = true;
	card.spec.container.replicas = 3;
	json = card_canonical_json(&card);
	assert_string_equal(json, REPLICAS_CONTAINER_JSON);
	free(json);
	assert_int_equal(card_container_replicas(&card.spec.container), 3);
	card.spec.container.replicas = 0;
	assert_int_equal(card_container_replicas(&card.spec.container), 0);
}

/* ---- canon on its own: cards built by hand, no YAML ------------------------------------- */

/* The struct keeps maps in file order and may hold a key twice; the canonical form sorts by
 * bytes (uppercase before lowercase, '/' before digits) and keeps the last value. */
static void test_struct_maps_sorted_and_deduplicated(void **state)
{
	(void)state;
	struct card_kv labels[] = {
	    {"z", "1", 0, 0}, {"a", "2", 0, 0},	 {"z", "3", 0, 0},
	    {"B", "4", 0, 0}, {"a/", "5", 0, 0}, {"a0", "6", 0, 0},
	};
	struct card card;
	memset(&card, 0, sizeof(card));
	card.kind = CARD_VOLUME;
	card.name.s = "v";
	card.labels.count = sizeof(labels) / sizeof(labels[0]);
	card.labels.items = labels;
	card.spec.volume.driver = "local";
	char *json = card_canonical_json(&card);
	assert_non_null(json);
	assert_string_equal(json, "{\"apiVersion\":\"cutip/v1\",\"kind\":\"VolumeCard\","
				  "\"metadata\":{\"labels\":{\"B\":\"4\",\"a\":\"2\",\"a/\":\"5\","
				  "\"a0\":\"6\",\"z\":\"3\"},\"name\":\"v\"},\"spec\":{\"driver\":"
				  "\"local\",\"labels\":{},\"options\":{}}}");
	free(json);
}

/* A field card.c left NULL is null, not dropped and not a crash; hooks keep both keys. */
static void test_struct_nulls(void **state)
{
	(void)state;
	struct card card;
	memset(&card, 0, sizeof(card));
	card.kind = CARD_UNIT;
	char *json = card_canonical_json(&card);
	assert_non_null(json);
	assert_string_equal(json, "{\"apiVersion\":\"cutip/v1\",\"kind\":\"Unit\",\"metadata\":{"
				  "\"labels\":{},\"name\":null},\"spec\":{\"containerRef\":null,"
				  "\"hooks\":{\"posthook\":null,\"prehook\":null}}}");
	free(json);

	/* sha256 of the string above, from sha256sum */
	char hash[65];
	assert_int_equal(card_hash(&card, hash), 0);
	assert_string_equal(hash,
			    "d1a789e5ca6fb2e988dd9bd5e4316fad538d8a0200009d701d11792190dcb8a2");
}

static void test_null_card(void **state)
{
	(void)state;
	assert_null(card_canonical_json(NULL));
	char hash[65];
	assert_int_equal(card_hash(NULL, hash), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pinned_json_and_hash),
	    cmocka_unit_test(test_same_meaning_same_hash),
	    cmocka_unit_test(test_duplicate_keys_last_wins),
	    cmocka_unit_test(test_every_change_changes_hash),
	    cmocka_unit_test(test_struct_maps_sorted_and_deduplicated),
	    cmocka_unit_test(test_struct_nulls),
	    cmocka_unit_test(test_null_card),
	    cmocka_unit_test(test_replicas_hash),
	    cmocka_unit_test(test_limits_hash),
	    cmocka_unit_test(test_struct_replicas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
