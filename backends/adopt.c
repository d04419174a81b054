/* The cards of a container cutipfs did not make, from its inspect document (and its network's):
 * the ContainerCard, ImageCard and NetworkCard that CUTIP's `adopt` writes, in the same
 * per-name layout and with its rules (environment without PATH, HOME, HOSTNAME and TERM; the
 * engine's own labels dropped), plus cutipfs's own fields where the container has them, so that
 * the card makes the same container. One deliberate difference: ports are written as cutipfs
 * reads them ("<container port>/<proto>": "<host port>", cards/card.c check_ports), not as
 * CUTIP's adopt writes them (the other way round, which its runtime reads as container port
 * first): the card must publish the container's real mapping. Written with libyaml's emitter
 * (cards/yemit.h). */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws-int.h"
#include "yemit.h"

/* Networks every engine has, which no NetworkCard makes (Podman's default is "podman"). */
static bool user_network(const char *name)
{
	static const char *const builtin[] = {"bridge", "host", "none", "podman"};
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcmp(name, builtin[i]) == 0)
			return false;
	return *name != '\0';
}

/* The user network a card names of several (a card has one networkRef): the first by name, so
 * that the container's document and the state's network list agree on it. */
static const cJSON *user_net_of(const cJSON *doc)
{
	const cJSON *nets = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "NetworkSettings"), "Networks");
	const cJSON *best = NULL, *n;
	cJSON_ArrayForEach(n, nets)
	{
		if (n->string && user_network(n->string) &&
		    (!best || strcmp(n->string, best->string) < 0))
			best = n;
	}
	return best;
}

bool ws_adopt_user_net(const char *nets, char *name, size_t len)
{
	char best[128] = "";
	for (const char *p = nets ? nets : ""; *p; p += strcspn(p, "\n")) {
		p += *p == '\n';
		char one[128];
		ws_fmt(one, sizeof(one), "%.*s", (int)strcspn(p, "\n"), p);
		if (user_network(one) && (!best[0] || strcmp(one, best) < 0))
			ws_fmt(best, sizeof(best), "%s", one);
	}
	if (name)
		ws_fmt(name, len, "%s", best);
	return best[0] != '\0';
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* What the ImageCard says of the container's image: the repository as people write it and the
 * tag (a digest cannot be a tag: the image is then named by its tag, or latest). The card is
 * named after the container, as CUTIP's adopt names all its cards: applied, it tags the image
 * present here under that name (apply.c apply_pull), a tag of the workspace's own that the
 * card's removal takes away again, never the image's own name. */
struct image_parts {
	char repo[256], tag[128];
};

static void image_parts(const cJSON *doc, struct image_parts *ip)
{
	const char *ref = str_of(cJSON_GetObjectItemCaseSensitive(doc, "Config"), "Image");
	ws_fmt(ip->repo, sizeof(ip->repo), "%s", be_image_short(ref ? ref : ""));
	char *at = strchr(ip->repo, '@');
	if (at)
		*at = '\0';
	char *colon = strrchr(ip->repo, ':'), *slash = strrchr(ip->repo, '/');
	bool tagged = colon && (!slash || colon > slash);
	ws_fmt(ip->tag, sizeof(ip->tag), "%s", tagged ? colon + 1 : "latest");
	if (tagged)
		*colon = '\0';
}

static void plain_ll(struct yemit *y, const char *key, long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	yemit_str(y, key);
	yemit_plain(y, buf);
}

/* A Go duration card_parse_duration reads back exactly: the largest unit that divides it. */
static void duration(struct yemit *y, const char *key, long long ns)
{
	char buf[40];
	if (ns <= 0)
		return;
	if (ns % 1000000000LL == 0)
		snprintf(buf, sizeof(buf), "%llds", ns / 1000000000LL);
	else if (ns % 1000000LL == 0)
		snprintf(buf, sizeof(buf), "%lldms", ns / 1000000LL);
	else
		snprintf(buf, sizeof(buf), "%lldns", ns);
	yemit_kv(y, key, buf);
}

static void string_list(struct yemit *y, const char *key, const cJSON *arr)
{
	const cJSON *v;
	if (!cJSON_GetArraySize(arr))
		return;
	yemit_str(y, key);
	yemit_seq(y);
	cJSON_ArrayForEach(v, arr) yemit_str(y, cJSON_IsString(v) ? v->valuestring : "");
	yemit_close_seq(y);
}

/* Config.Cmd as one command that card_shlex_split gives back word for word. */
static void command(struct yemit *y, const cJSON *cmd)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = cJSON_GetArraySize(cmd) ? open_memstream(&line, &len) : NULL;
	const cJSON *w;
	if (!f)
		return;
	cJSON_ArrayForEach(w, cmd)
	{
		char *q = card_shlex_quote(cJSON_IsString(w) ? w->valuestring : "");
		if (!q)
			y->failed = true;
		fprintf(f, "%s%s", w == cmd->child ? "" : " ", q ? q : "");
		free(q);
	}
	if (fclose(f) == 0 && line)
		yemit_kv(y, "command", line);
	else
		y->failed = true;
	free(line);
}

/* Starts key's mapping (or sequence) at its first item, so that an empty one is left out. */
static void first_item(struct yemit *y, bool *open, const char *key, bool seq)
{
	if (*open)
		return;
	yemit_str(y, key);
	if (seq)
		yemit_seq(y);
	else
		yemit_map(y);
	*open = true;
}

/* Whether text starts with one of words; whole: and the word is all of its name (up to '=', in
 * an environment entry). */
static bool starts_with(const char *text, const char *const *words, size_t count, bool whole)
{
	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(words[i]);
		if (strncmp(text, words[i], n) == 0 && (!whole || text[n] == '=' || !text[n]))
			return true;
	}
	return false;
}

/* CUTIP's adopt drops these: the image or the engine sets them in every container. */
static bool env_dropped(const char *kv)
{
	static const char *const dropped[] = {"PATH", "HOME", "HOSTNAME", "TERM"};
	return starts_with(kv, dropped, sizeof(dropped) / sizeof(dropped[0]), true);
}

static void environment(struct yemit *y, const cJSON *env)
{
	const cJSON *v;
	bool open = false;
	cJSON_ArrayForEach(v, env)
	{
		if (!cJSON_IsString(v) || env_dropped(v->valuestring))
			continue;
		first_item(y, &open, "environment", false);
		char *kv = strdup(v->valuestring), *eq = kv ? strchr(kv, '=') : NULL;
		if (!kv) {
			y->failed = true;
			continue;
		}
		if (eq)
			*eq = '\0';
		yemit_kv(y, kv, eq ? eq + 1 : "");
		free(kv);
	}
	if (open)
		yemit_close_map(y);
}

/* The engine's labels (and the workspace's own) dropped, as CUTIP's adopt does. */
static bool label_dropped(const char *key)
{
	static const char *const prefixes[] = {"com.docker.", "org.opencontainers.", "desktop.",
					       "io.podman.", "cutipfs."};
	return starts_with(key, prefixes, sizeof(prefixes) / sizeof(prefixes[0]), false);
}

static void labels(struct yemit *y, const cJSON *l)
{
	const cJSON *v;
	bool open = false;
	cJSON_ArrayForEach(v, l)
	{
		if (!v->string || label_dropped(v->string))
			continue;
		first_item(y, &open, "labels", false);
		yemit_kv(y, v->string, cJSON_IsString(v) ? v->valuestring : "");
	}
	if (open)
		yemit_close_map(y);
}

/* HostConfig.PortBindings: the first binding with a host port of each container port. The
 * host address is not kept (a card publishes on every address; case-adopt.sh). */
static void ports(struct yemit *y, const cJSON *bindings)
{
	const cJSON *p;
	bool open = false;
	cJSON_ArrayForEach(p, bindings)
	{
		const cJSON *b;
		const char *host = NULL;
		cJSON_ArrayForEach(b, p) if (!host && str_of(b, "HostPort") &&
					     *str_of(b, "HostPort")) host = str_of(b, "HostPort");
		if (!host || !p->string)
			continue; /* a port the engine picks: no card says that */
		first_item(y, &open, "ports", false);
		yemit_kv(y, p->string, host);
	}
	if (open)
		yemit_close_map(y);
}

static bool mount_rw(const cJSON *m)
{
	return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "RW"));
}

/* Binds and read-only volumes as spec.mounts, read-write named volumes as spec.volumes (what
 * cutipfs mounts them as, docker/spec.c docker_add_mounts); tmpfs and the like have no card. */
static void mounts(struct yemit *y, const cJSON *list)
{
	const cJSON *m;
	bool open = false;
	cJSON_ArrayForEach(m, list)
	{
		const char *type = str_of(m, "Type"), *dest = str_of(m, "Destination");
		bool bind = type && strcmp(type, "bind") == 0;
		const char *src = bind ? str_of(m, "Source") : str_of(m, "Name");
		if (!type || !dest || !src || (!bind && strcmp(type, "volume") != 0) ||
		    (!bind && mount_rw(m)))
			continue;
		first_item(y, &open, "mounts", true);
		yemit_map(y);
		yemit_kv(y, "type", type);
		yemit_kv(y, "source", src);
		yemit_kv(y, "target", dest);
		if (!mount_rw(m)) {
			yemit_str(y, "read_only");
			yemit_plain(y, "true");
		}
		yemit_close_map(y);
	}
	if (open)
		yemit_close_seq(y);
	open = false;
	cJSON_ArrayForEach(m, list)
	{
		const char *type = str_of(m, "Type"), *name = str_of(m, "Name");
		const char *dest = str_of(m, "Destination");
		if (!type || strcmp(type, "volume") != 0 || !name || !dest || !mount_rw(m))
			continue;
		first_item(y, &open, "volumes", false);
		yemit_kv(y, name, dest);
	}
	if (open)
		yemit_close_map(y);
}

static void resources(struct yemit *y, const cJSON *host)
{
	long long mem = be_json_int(cJSON_GetObjectItemCaseSensitive(host, "Memory"));
	long long swap = be_json_int(cJSON_GetObjectItemCaseSensitive(host, "MemorySwap"));
	long long cpus = be_json_int(cJSON_GetObjectItemCaseSensitive(host, "NanoCpus"));
	long long pids = be_json_int(cJSON_GetObjectItemCaseSensitive(host, "PidsLimit"));
	/* 0 (and for pids, -1) is no limit, the engine's default: no card field. */
	if (mem <= 0 && cpus <= 0 && pids <= 0)
		return;
	yemit_str(y, "resources");
	yemit_map(y);
	if (mem > 0)
		plain_ll(y, "memory", mem);
	if (mem > 0 && (swap > 0 || swap == -1))
		plain_ll(y, "memory_swap", swap);
	if (cpus > 0) {
		char buf[48];
		snprintf(buf, sizeof(buf), "%lld.%09lld", cpus / 1000000000LL, cpus % 1000000000LL);
		for (size_t n = strlen(buf); buf[n - 1] == '0'; n--)
			buf[n - 1] = '\0';
		if (buf[strlen(buf) - 1] == '.')
			buf[strlen(buf) - 1] = '\0';
		yemit_kv(y, "cpus", buf);
	}
	if (pids > 0)
		plain_ll(y, "pids", pids);
	yemit_close_map(y);
}

static void healthcheck(struct yemit *y, const cJSON *hc)
{
	const cJSON *test = cJSON_GetObjectItemCaseSensitive(hc, "Test");
	if (!cJSON_GetArraySize(test))
		return;
	yemit_str(y, "healthcheck");
	yemit_map(y);
	string_list(y, "test", test);
	duration(y, "interval", be_json_int(cJSON_GetObjectItemCaseSensitive(hc, "Interval")));
	duration(y, "timeout", be_json_int(cJSON_GetObjectItemCaseSensitive(hc, "Timeout")));
	duration(y, "start_period",
		 be_json_int(cJSON_GetObjectItemCaseSensitive(hc, "StartPeriod")));
	long long retries = be_json_int(cJSON_GetObjectItemCaseSensitive(hc, "Retries"));
	if (retries > 0)
		plain_ll(y, "retries", retries);
	yemit_close_map(y);
}

/* user, stop_signal, stop_timeout: what differs from every engine's default (Podman writes its
 * defaults, SIGTERM as 15 and a StopTimeout of 0, into every container). */
static void process(struct yemit *y, const cJSON *config)
{
	const char *user = str_of(config, "User");
	if (user && *user)
		yemit_kv(y, "user", user);
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(config, "StopSignal");
	char sigbuf[32] = "";
	if (cJSON_IsString(sig) && sig->valuestring)
		ws_fmt(sigbuf, sizeof(sigbuf), "%s", sig->valuestring);
	else if (cJSON_IsNumber(sig))
		snprintf(sigbuf, sizeof(sigbuf), "%lld", be_json_int(sig));
	if (*sigbuf && strcmp(sigbuf, "SIGTERM") != 0 && strcmp(sigbuf, "TERM") != 0 &&
	    strcmp(sigbuf, "15") != 0)
		yemit_kv(y, "stop_signal", sigbuf);
	long long timeout = be_json_int(cJSON_GetObjectItemCaseSensitive(config, "StopTimeout"));
	if (timeout > 0)
		plain_ll(y, "stop_timeout", timeout);
}

static const char *container_name(const cJSON *doc)
{
	const char *name = str_of(doc, "Name");
	return name ? name + (*name == '/') : NULL;
}

/* Where the container runs: its user network, or a mode other than the engine's default. */
static void network(struct yemit *y, const cJSON *doc, const cJSON *host)
{
	const cJSON *net = user_net_of(doc);
	const char *mode = str_of(host, "NetworkMode");
	if (net)
		yemit_ref(y, "networkRef", "networks", net->string);
	else if (mode && (strcmp(mode, "host") == 0 || strcmp(mode, "none") == 0 ||
			  strncmp(mode, "container:", 10) == 0))
		yemit_kv(y, "network_mode", mode);
}

static void container_card(struct yemit *y, const cJSON *doc, const char *name)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "Config");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(doc, "HostConfig");
	yemit_ref(y, "imageRef", "images", name);
	network(y, doc, host);
	command(y, cJSON_GetObjectItemCaseSensitive(config, "Cmd"));
	/* The engine names a container's host after its id unless told otherwise. */
	const char *hostname = str_of(config, "Hostname"), *id = str_of(doc, "Id");
	if (hostname && *hostname &&
	    !(id && strlen(hostname) == 12 && strncmp(id, hostname, 12) == 0))
		yemit_kv(y, "hostname", hostname);
	const char *workdir = str_of(config, "WorkingDir");
	if (workdir && *workdir && strcmp(workdir, "/") != 0)
		yemit_kv(y, "workdir", workdir);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(host, "Privileged"))) {
		yemit_str(y, "privileged");
		yemit_plain(y, "true");
	}
	string_list(y, "cap_add", cJSON_GetObjectItemCaseSensitive(host, "CapAdd"));
	string_list(y, "security_opts", cJSON_GetObjectItemCaseSensitive(host, "SecurityOpt"));
	ports(y, cJSON_GetObjectItemCaseSensitive(host, "PortBindings"));
	environment(y, cJSON_GetObjectItemCaseSensitive(config, "Env"));
	mounts(y, cJSON_GetObjectItemCaseSensitive(doc, "Mounts"));
	labels(y, cJSON_GetObjectItemCaseSensitive(config, "Labels"));
	const char *restart =
	    str_of(cJSON_GetObjectItemCaseSensitive(host, "RestartPolicy"), "Name");
	if (restart && *restart && strcmp(restart, "no") != 0)
		yemit_kv(y, "restart_policy", restart);
	resources(y, host);
	healthcheck(y, cJSON_GetObjectItemCaseSensitive(config, "Healthcheck"));
	process(y, config);
}

static void image_card(struct yemit *y, const struct image_parts *ip)
{
	yemit_kv(y, "source", "pull");
	yemit_kv(y, "image", ip->repo);
	yemit_kv(y, "tag", ip->tag);
}

/* The network's subnet and gateway from its own document, else guessed from the container's
 * address and prefix length (as CUTIP's adopt does). */
static int network_card(struct yemit *y, const cJSON *ep, const cJSON *net)
{
	const cJSON *cfg =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetObjectItemCaseSensitive(net, "IPAM"), "Config"),
			       0);
	const char *driver = str_of(net, "Driver"), *subnet = str_of(cfg, "Subnet");
	const char *gateway = subnet ? str_of(cfg, "Gateway") : str_of(ep, "Gateway");
	char guess[INET_ADDRSTRLEN + 4];
	if (!subnet) {
		const char *ip = str_of(ep, "IPAddress");
		long long prefix = be_json_int(cJSON_GetObjectItemCaseSensitive(ep, "IPPrefixLen"));
		struct in_addr a;
		if (!ip || prefix < 1 || prefix > 32 || inet_pton(AF_INET, ip, &a) != 1)
			return -ENOENT; /* no IPv4 address: nothing to say the subnet is */
		uint32_t mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
		a.s_addr = htonl(ntohl(a.s_addr) & mask);
		char addr[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, addr, sizeof(addr));
		snprintf(guess, sizeof(guess), "%s/%lld", addr, prefix);
		subnet = guess;
	}
	if (driver && strcmp(driver, "bridge") != 0)
		yemit_kv(y, "driver", driver);
	yemit_kv(y, "subnet", subnet);
	if (gateway && *gateway)
		yemit_kv(y, "gateway", gateway);
	return 0;
}

static const char *const kind_names[] = {
    [CARD_IMAGE] = "ImageCard", [CARD_CONTAINER] = "ContainerCard", [CARD_NETWORK] = "NetworkCard"};

int ws_adopt_generate(const char *container, const char *network, enum card_kind kind, char **text,
		      size_t *len)
{
	cJSON *doc = container ? cJSON_Parse(container) : NULL;
	cJSON *net = network ? cJSON_Parse(network) : NULL;
	const char *name = container_name(doc);
	const cJSON *ep = user_net_of(doc);
	struct image_parts ip;
	struct yemit y;
	int rc = 0;

	*text = NULL;
	*len = 0;
	if (kind != CARD_IMAGE && kind != CARD_CONTAINER && kind != CARD_NETWORK)
		rc = -EINVAL;
	else if (!name || !*name)
		rc = -EINVAL; /* not a container's document */
	else if (kind == CARD_NETWORK && !ep)
		rc = -ENOENT; /* on no user network: no NetworkCard */
	if (rc == 0) {
		image_parts(doc, &ip);
		if (!yemit_card_begin(&y, kind_names[kind],
				      kind == CARD_NETWORK ? ep->string : name))
			rc = -ENOMEM;
	}
	if (rc == 0) {
		if (kind == CARD_CONTAINER)
			container_card(&y, doc, name);
		else if (kind == CARD_IMAGE)
			image_card(&y, &ip);
		else
			rc = network_card(&y, ep, net);
		yemit_close_map(&y); /* spec */
		char *out = NULL;
		size_t n = 0;
		bool ok = yemit_end(&y, &out, &n);
		/* A string of the document that is not UTF-8 has no YAML. */
		if (rc == 0 && !ok)
			rc = y.bad_text ? -EILSEQ : -ENOMEM;
		if (rc == 0) {
			*text = out;
			*len = n;
		} else if (ok) {
			free(out);
		}
	}
	cJSON_Delete(net);
	cJSON_Delete(doc);
	return rc;
}
