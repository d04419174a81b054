/* The CUTIP card model (apiVersion cutip/v1): one parsed, validated, defaulted card.
 *
 * Validation follows CUTIP 0.1.x (pydantic v2 models) and keeps its messages word for word,
 * e.g. "spec.mounts.0.type: Input should be 'bind' or 'volume'", so a CUTIP user recognises
 * them. cutipfs adds what CUTIP never checked (unknown keys, names, ports, command quoting),
 * each with the file's line and column. */
#ifndef CUTIPFS_CARDS_CARD_H
#define CUTIPFS_CARDS_CARD_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "ydoc.h"

enum card_kind {
	CARD_IMAGE,
	CARD_CONTAINER,
	CARD_NETWORK,
	CARD_VOLUME,
	CARD_UNIT,
	CARD_GROUP,
	CARD_KIND_COUNT
};

/* A string with the place it came from (for messages about it later, e.g. a dangling ref). */
struct card_str {
	char *s; /* NULL when absent */
	int line, col;
};

struct card_kv {
	char *key;
	char *value;
	int line, col; /* of the value */
};

/* A YAML mapping of strings, in file order (the canonical form sorts it). */
struct card_map {
	size_t count;
	struct card_kv *items;
};

struct card_list {
	size_t count;
	struct card_str *items;
};

struct card_build_resource {
	struct card_str src;
	char *dest; /* defaults to basename(src) */
};

struct card_image_spec {
	char *source; /* "pull" | "build" */
	char *tag;    /* default "latest" */
	char *image;
	char *context;
	char *dockerfile; /* default "Dockerfile" */
	struct card_map build_args;
	size_t resource_count;
	struct card_build_resource *resources;
	char *buildtime_dir;
	char *network_mode;
};

struct card_mount {
	char *type; /* "bind" | "volume" */
	struct card_str source;
	struct card_str target;
	bool read_only;
	bool create_host_path;
};

/* cutipfs's own container fields, which CUTIP ignores (pydantic drops keys its model lacks):
 * what the engine limits and checks. 0, NULL or an empty list is unset, and the canonical form
 * has only what is set, so that a card without them keeps the hash it had before they existed. */
struct card_resources {
	long long memory;      /* bytes */
	long long memory_swap; /* memory plus swap, bytes; -1 no limit */
	long long nano_cpus;   /* CPUs x 1e9 */
	long long pids;	       /* -1 no limit */
};

struct card_healthcheck {
	/* ["CMD-SHELL", "cmd"], ["CMD", argv...] or ["NONE"]; empty: unset */
	struct card_list test;
	long long interval, timeout, start_period; /* ns */
	long long retries;
};

struct card_container_spec {
	struct card_str image_ref;   /* "images/<name>" */
	struct card_str network_ref; /* "networks/<name>" or absent */
	char *network_mode;
	struct card_str command; /* split as a shell would at apply time */
	char *hostname;
	char *workdir;
	bool privileged;
	struct card_list cap_add;
	struct card_list security_opts;
	struct card_map ports; /* "<container port>/<proto>" -> "<host port>" */
	struct card_map environment;
	size_t mount_count;
	struct card_mount *mounts;
	struct card_map volumes; /* volume name -> container path */
	struct card_map labels;
	char *restart_policy;
	/* spec.replicas, a cutipfs extension that CUTIP ignores (pydantic drops a key its model
	 * lacks). Only the swarm backend uses it, as the service's replica count; a single-engine
	 * backend leaves it alone and runs one container. Whether it was written is kept apart
	 * from the value so that a card without it keeps the hash it had before the field
	 * existed; read it through card_container_replicas(), which takes unset as 1. */
	bool has_replicas;
	unsigned replicas; /* 0 to UINT_MAX when has_replicas, else 0 */
	struct card_resources resources;
	struct card_healthcheck healthcheck;
	char *user;	   /* "uid[:gid]" or a name */
	char *stop_signal; /* "SIGINT", "INT" or a number */
	bool has_stop_timeout;
	long long stop_timeout; /* seconds */
};

struct card_network_spec {
	char *driver; /* default "bridge" */
	char *subnet;
	char *gateway; /* may be NULL: the first host of the subnet at run time */
};

struct card_volume_spec {
	char *driver; /* default "local" */
	struct card_map labels;
	struct card_map options;
};

struct card_unit_spec {
	struct card_str container_ref;
	char *prehook;
	char *posthook;
};

struct card_group_spec {
	struct card_list units; /* "units/<name>" refs, in order */
	char *workflow;		/* default "workflow.py" */
	char *orchestrator;	/* default "orchestrator.py" */
};

struct card {
	enum card_kind kind;
	char *file;		  /* the path it was read from, as given */
	struct card_str name;	  /* metadata.name */
	struct card_map labels;	  /* metadata.labels */
	int line, col;		  /* of the document */
	union {
		struct card_image_spec image;
		struct card_container_spec container;
		struct card_network_spec network;
		struct card_volume_spec volume;
		struct card_unit_spec unit;
		struct card_group_spec group;
	} spec;
	struct ynode *doc; /* the document it came from, for placeholder marks */
};

/* "ImageCard", ... and the registry prefix "images", ... of a kind. */
const char *card_kind_name(enum card_kind kind);
const char *card_kind_prefix(enum card_kind kind);
/* -1 when the name is not a kind cutipfs knows. */
int card_kind_from_name(const char *name);

/* Parses and validates one card from a buffer. Returns 0 and a card, or -1 with at least one
 * error in diags. Warnings (unknown keys, duplicate keys) may be added either way. */
int card_parse(const char *buf, size_t len, const char *file, struct card **out,
	       struct card_diags *diags);
int card_parse_file(const char *path, struct card **out, struct card_diags *diags);
/* Validates an already loaded document (takes ownership of doc in every case). */
int card_from_doc(struct ynode *doc, const char *file, struct card **out,
		  struct card_diags *diags);
void card_free(struct card *card);

/* spec.replicas as a backend should use it: the value written, or 1 when the card has none. */
unsigned card_container_replicas(const struct card_container_spec *spec);

/* "<prefix>/<name>", e.g. "containers/web"; malloc'd. */
char *card_ref_of(const struct card *card);

/* Whether a name can be a container, network, image or directory name: starts with a letter or
 * digit, then letters, digits, '_', '.', '-'; at most 63 characters. On false, *why says why. */
bool card_name_valid(const char *name, const char **why);

/* Quantities of the limits (cards/quantity.c): 0 or -EINVAL (-ERANGE past a long long). A
 * size: bytes, or a number with b, k, m, g or t (of 1024; "512m", "1.5g", "512mb"). A duration
 * as Go writes one ("30s", "1m30s", "500ms", "0"), into ns. CPUs as a decimal ("1.5"), into
 * NanoCpus. */
int card_parse_bytes(const char *text, long long *out);
int card_parse_duration(const char *text, long long *ns);
int card_parse_cpus(const char *text, long long *nano);

/* Splits a command as POSIX shlex would (Python's shlex.split): quotes, backslashes, no
 * expansion. Returns a NULL-terminated malloc'd argv, or NULL with *error set
 * ("No closing quotation", "No escaped character"). Free with card_argv_free. */
char **card_shlex_split(const char *command, const char **error);
void card_argv_free(char **argv);
/* One word quoted as Python's shlex.quote does, so that card_shlex_split reads it back as that
 * word; malloc'd, NULL when out of memory. */
char *card_shlex_quote(const char *word);

#endif
