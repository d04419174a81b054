/* `cutipfs check`: CUTIP's discovery order, then every card, its placeholders and the graph,
 * reported one line per problem the way a compiler does (or as JSON or SARIF, cards/report.c),
 * and nothing at all when all is well. */
#include "check.h"

#include <errno.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "placeholder.h"
#include "report.h"
#include "wsfile.h"
#include "ydoc.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Why a file name is never a card, or NULL when it may be one. */
static const char *ignore_reason(const char *path)
{
	static const char *const editor[] = {"~", ".swp", ".swo", ".tmp"};
	static const char *const reserved[] = {"cutip.yaml", "paths.yaml", "secrets.yaml",
					       "vars.yaml"};
	const char *name = base_name(path);
	if (name[0] == '.')
		return "a hidden file";
	/* 4913 is the file vim creates to probe whether it may write into a directory. */
	for (size_t i = 0; i < sizeof(editor) / sizeof(editor[0]); i++)
		if (ends_with(name, editor[i]))
			return "an editor's temporary file";
	if (strcmp(name, "4913") == 0)
		return "an editor's temporary file";
	if (!ends_with(name, ".yaml") && !ends_with(name, ".yml"))
		return "not a .yaml or .yml file";
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return "a workspace file, not a card";
	return NULL;
}

bool card_file_ignored(const char *name)
{
	/* Discovery never enters a hidden directory (walk_entry): nor is what is in one a card
	 * when it is written (a .git directory of a workspace). */
	if (name[0] == '.')
		return true;
	for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/'))
		if (p[1] == '.')
			return true;
	return ignore_reason(name) != NULL;
}

/* Discovery. */

struct pathlist {
	char **items;
	size_t count, cap;
};

static int pathlist_add(struct pathlist *l, char *path)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **items = realloc(l->items, cap * sizeof(*items));
		if (!items) {
			free(path);
			errno = ENOMEM;
			return -1;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->count++] = path;
	return 0;
}

static void pathlist_free(struct pathlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Python sorts Paths by their parts, not by the string: "a/b" before "a-b". Comparing bytes
 * with '/' below every other byte gives that order. */
static int path_order(const void *pa, const void *pb)
{
	const unsigned char *a = *(const unsigned char *const *)pa;
	const unsigned char *b = *(const unsigned char *const *)pb;
	for (; *a && *a == *b; a++, b++)
		;
	int ca = *a == '/' ? 1 : *a, cb = *b == '/' ? 1 : *b;
	return ca - cb;
}

static int name_order(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

struct dir_id {
	dev_t dev;
	ino_t ino;
};

/* A walk: the two lists CUTIP concatenates, and every directory entered, so that a second way
 * into one (a bind mount of a parent, say) is not walked again. */
struct walk {
	struct pathlist yaml, yml;
	struct dir_id *seen;
	size_t seen_count;
};

static char *path_join(const char *dir, const char *name)
{
	char *path = NULL;
	bool slash = dir[0] && dir[strlen(dir) - 1] == '/';
	if (asprintf(&path, "%s%s%s", dir, slash ? "" : "/", name) < 0)
		return NULL;
	return path;
}

/* Whether the directory was entered before; remembers it if not. */
static int walk_enter(struct walk *w, const struct stat *st)
{
	for (size_t i = 0; i < w->seen_count; i++)
		if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino)
			return 1;
	struct dir_id *seen = realloc(w->seen, (w->seen_count + 1) * sizeof(*seen));
	if (!seen) {
		errno = ENOMEM;
		return -1;
	}
	w->seen = seen;
	w->seen[w->seen_count++] = (struct dir_id){st->st_dev, st->st_ino};
	return 0;
}

/* The entry names of a directory, sorted so that the walk is the same every time. */
static int read_names(const char *dir, struct pathlist *names)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	errno = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *name = strdup(e->d_name);
		rc = name ? pathlist_add(names, name) : -1;
	}
	int saved = errno;
	closedir(d);
	if (rc < 0 || saved) {
		errno = saved ? saved : ENOMEM;
		return -1;
	}
	if (names->count > 1) /* qsort(NULL, 0, ...) is undefined behaviour */
		qsort(names->items, names->count, sizeof(char *), name_order);
	return 0;
}

static int walk_dir(struct walk *w, const char *dir);

static int walk_entry(struct walk *w, const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	if (!path)
		return -1;
	struct stat lst, st;
	int rc = 0;
	if (lstat(path, &lst) < 0 || stat(path, &st) < 0) {
		/* A dangling symlink, or an entry gone since readdir: nothing to read. */
	} else if (S_ISDIR(st.st_mode)) {
		/* Like Python's rglob, never into a symlinked directory (so never round a loop),
		 * nor, unlike it, into a hidden one. */
		if (name[0] != '.' && !S_ISLNK(lst.st_mode))
			rc = walk_dir(w, path);
	} else if (S_ISREG(st.st_mode) && !card_file_ignored(name)) {
		struct pathlist *list = ends_with(name, ".yaml") ? &w->yaml : &w->yml;
		rc = pathlist_add(list, path);
		path = NULL;
	}
	free(path);
	return rc;
}

static int walk_dir(struct walk *w, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	int seen = walk_enter(w, &st);
	if (seen != 0)
		return seen < 0 ? -1 : 0;
	struct pathlist names = {0};
	int rc = read_names(dir, &names);
	for (size_t i = 0; rc == 0 && i < names.count; i++)
		rc = walk_entry(w, dir, names.items[i]);
	int saved = errno;
	pathlist_free(&names);
	errno = saved;
	return rc;
}

int card_discover(const char *dir, char ***out)
{
	struct walk w = {0};
	*out = NULL;
	int rc = walk_dir(&w, dir);
	int saved = errno;
	free(w.seen);
	if (rc < 0 || w.yaml.count + w.yml.count > INT_MAX) {
		pathlist_free(&w.yaml);
		pathlist_free(&w.yml);
		errno = rc < 0 ? saved : EOVERFLOW;
		return -1;
	}
	if (w.yaml.count > 1) /* qsort(NULL, 0, ...) is undefined behaviour */
		qsort(w.yaml.items, w.yaml.count, sizeof(char *), path_order);
	if (w.yml.count > 1)
		qsort(w.yml.items, w.yml.count, sizeof(char *), path_order);
	size_t n = w.yaml.count + w.yml.count;
	char **all = malloc((n ? n : 1) * sizeof(*all));
	if (!all) {
		pathlist_free(&w.yaml);
		pathlist_free(&w.yml);
		errno = ENOMEM;
		return -1;
	}
	if (w.yaml.count)
		memcpy(all, w.yaml.items, w.yaml.count * sizeof(*all));
	if (w.yml.count)
		memcpy(all + w.yaml.count, w.yml.items, w.yml.count * sizeof(*all));
	free(w.yaml.items);
	free(w.yml.items);
	*out = all;
	return (int)n;
}

/* The check command. */

/* A workspace root, its paths.yaml and secrets.yaml, loaded once however many arguments lie
 * in it. */
struct workspace {
	char *root;
	struct card_values values;
};

/* A file the user asked about, given by name or found under a directory given: its real path
 * and the name problems are reported under. */
struct target {
	char *real;
	char *name;
	size_t ws;	     /* index into checker.spaces */
	bool workspace_file; /* cutip.yaml, paths.yaml...: read by the workspace check */
};

struct checker {
	struct card_registry reg;
	struct workspace *spaces;
	size_t space_count;
	struct target *targets;
	size_t target_count;
	struct pathlist dirs;	 /* real paths of the directories given: all below is reported */
	struct pathlist checked; /* real paths of the cards checked, so none is checked twice */
	struct card_diags out;	 /* what is reported, in order */
	bool quiet;		 /* errors only */
	/* `-`: the card read from stdin, its name and the real path it stands for. */
	char *stdin_buf;
	size_t stdin_len;
	const char *stdin_name;
	char *stdin_real;
};

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	if (!slash)
		return strdup(".");
	return strndup(file, slash == file ? 1 : (size_t)(slash - file));
}

/* The real path of a file that may not exist yet (an editor's unsaved buffer): its
 * directory's real path and its name. malloc'd, NULL when the directory is not there. */
static char *real_path_of(const char *file)
{
	char *real = realpath(file, NULL);
	if (real)
		return real;
	char *dir = dir_of(file);
	char *real_dir = dir ? realpath(dir, NULL) : NULL;
	char *joined = real_dir ? path_join(real_dir, base_name(file)) : NULL;
	free(dir);
	free(real_dir);
	return joined;
}

/* Whether the path is dir or lies below it. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/' || (n > 0 && dir[n - 1] == '/'));
}

/* Whether a problem in this file is one the user asked about (given, or below a directory
 * given); problems of the rest of the workspace, read only so that refs resolve, are not. */
static bool reported(const char *file, void *ctx)
{
	const struct checker *c = ctx;
	if (!file || (c->stdin_name && strcmp(file, c->stdin_name) == 0))
		return true;
	char *real = real_path_of(file);
	bool yes = false;
	for (size_t i = 0; real && !yes && i < c->target_count; i++)
		yes = strcmp(real, c->targets[i].real) == 0;
	for (size_t i = 0; real && !yes && i < c->dirs.count; i++)
		yes = path_within(real, c->dirs.items[i]);
	free(real);
	return yes;
}

static bool keep_item(const struct card_diag *d, void *ctx)
{
	const struct checker *c = ctx;
	return !(c->quiet && d->severity == CARD_WARNING) && reported(d->file, ctx);
}

/* Moves what the user asked about to the output, and drops the rest. */
static void keep(struct checker *c, struct card_diags *diags)
{
	card_diags_move_if(&c->out, diags, keep_item, c);
}

static void path_problem(struct checker *c, const char *path, int err)
{
	struct card_diags diags = {0};
	card_diag_label(card_diags_add(&diags, CARD_ERROR, path, 0, 0, "%s", strerror(err)), "path",
			NULL);
	keep(c, &diags);
}

/* The workspace a directory lies in: walking up, the first directory holding cutip.yaml (as
 * CUTIP anchors its root), or the parent of a directory named cutip; else the directory
 * itself. Real paths, so that `..` and symlinks walk up where they lead. malloc'd. */
static char *find_root(const char *start)
{
	char *dir = realpath(start, NULL);
	if (!dir)
		return strdup(start);
	for (;;) {
		char *marker = path_join(dir, "cutip.yaml");
		bool found = marker && is_file(marker);
		free(marker);
		if (found)
			return dir;
		char *slash = strrchr(dir, '/');
		if (strcmp(slash + 1, "cutip") == 0) {
			slash[slash == dir ? 1 : 0] = '\0';
			return dir;
		}
		if (strcmp(dir, "/") == 0)
			break;
		slash[slash == dir ? 1 : 0] = '\0'; /* up one; "/x" becomes "/" */
	}
	free(dir);
	return realpath(start, NULL);
}

/* The index of root's workspace, registered on first use (taking root); -1 out of memory. */
static ssize_t workspace_of(struct checker *c, char *root)
{
	for (size_t i = 0; i < c->space_count; i++)
		if (strcmp(c->spaces[i].root, root) == 0) {
			free(root);
			return (ssize_t)i;
		}
	struct workspace *spaces = realloc(c->spaces, (c->space_count + 1) * sizeof(*spaces));
	if (!spaces) {
		free(root);
		return -1;
	}
	c->spaces = spaces;
	spaces[c->space_count] = (struct workspace){.root = root};
	return (ssize_t)c->space_count++;
}

static const struct target *target_find(const struct checker *c, const char *real)
{
	for (size_t i = 0; i < c->target_count; i++)
		if (strcmp(c->targets[i].real, real) == 0)
			return &c->targets[i];
	return NULL;
}

/* Registers a file asked about, once (the first name given wins). Takes real. */
static int target_add(struct checker *c, char *real, const char *name, char *root,
		      bool workspace_file)
{
	ssize_t ws = root ? workspace_of(c, root) : -1;
	struct target *targets =
	    ws >= 0 ? realloc(c->targets, (c->target_count + 1) * sizeof(*targets)) : NULL;
	char *copy = targets ? strdup(name) : NULL;
	if (targets)
		c->targets = targets;
	if (!copy || target_find(c, real)) {
		free(real);
		free(copy);
		return copy ? 0 : -ENOMEM;
	}
	c->targets[c->target_count++] = (struct target){real, copy, (size_t)ws, workspace_file};
	return 0;
}

/* Whether the real path was checked already (named twice, or by a directory and by itself);
 * remembers it if not. */
static bool already_checked(struct checker *c, const char *real)
{
	for (size_t i = 0; i < c->checked.count; i++)
		if (strcmp(c->checked.items[i], real) == 0)
			return true;
	char *copy = strdup(real);
	if (copy)
		pathlist_add(&c->checked, copy);
	return false;
}

/* cards/placeholder.c writes CUTIP's "FIELD: '{{ paths.k }}' is ..." without labelling its
 * messages: the rule is "placeholder", the field what comes before the placeholder. */
static void label_placeholders(struct card_diags *diags, size_t first)
{
	for (size_t i = first; i < diags->count; i++) {
		struct card_diag *d = &diags->items[i];
		if (d->rule)
			continue;
		const char *end = strstr(d->message, ": '{{");
		char *field = end ? strndup(d->message, (size_t)(end - d->message)) : NULL;
		card_diag_label(d, "placeholder", field);
		free(field);
	}
}

static void check_card(struct checker *c, const char *real, const char *name,
		       const struct card_values *values)
{
	if (already_checked(c, real))
		return;
	struct card_diags diags = {0};
	struct card *card = NULL;
	int rc = c->stdin_real && strcmp(real, c->stdin_real) == 0
		     ? card_parse(c->stdin_buf, c->stdin_len, name, &card, &diags)
		     : card_parse_file(name, &card, &diags);
	if (rc == 0) {
		size_t first = diags.count;
		card_placeholders_check(card, values, &diags);
		label_placeholders(&diags, first);
		card_registry_add(&c->reg, card, &diags);
	}
	keep(c, &diags);
}

/* A workspace's own files, then every card under its cutip/, asked about or not: a card
 * checked alone still finds what it refers to elsewhere in the workspace. */
static void check_workspace(struct checker *c, struct workspace *ws)
{
	struct card_diags diags = {0};
	card_workspace_files_check(ws->root, &diags);
	char *cutip_dir = path_join(ws->root, "cutip");
	size_t first = diags.count;
	if (cutip_dir)
		card_values_load(&ws->values, cutip_dir, ws->root, &diags);
	card_diags_label_since(&diags, first, "values-file");
	keep(c, &diags);
	char **files = NULL;
	int n = cutip_dir && is_dir(cutip_dir) ? card_discover(cutip_dir, &files) : 0;
	if (n < 0)
		path_problem(c, cutip_dir, errno);
	for (int i = 0; i < n; i++) {
		char *real = realpath(files[i], NULL);
		const struct target *t = real ? target_find(c, real) : NULL;
		if (real)
			check_card(c, real, t ? t->name : files[i], &ws->values);
		free(real);
		free(files[i]);
	}
	free(files);
	free(cutip_dir);
}

static void add_dir(struct checker *c, const char *path)
{
	char *cutip = path_join(path, "cutip");
	const char *scan = path;
	char *root;
	if (cutip && is_dir(cutip)) {
		root = realpath(path, NULL);
		scan = cutip;
	} else {
		root = find_root(path);
	}
	char *real = realpath(path, NULL);
	if (real)
		pathlist_add(&c->dirs, real);
	char **files = NULL;
	int n = card_discover(scan, &files);
	if (n < 0)
		path_problem(c, scan, errno);
	for (int i = 0; i < n; i++) {
		char *file_real = realpath(files[i], NULL);
		if (file_real && root)
			target_add(c, file_real, files[i], strdup(root), false);
		else
			free(file_real);
		free(files[i]);
	}
	free(files);
	if (n <= 0 && root) /* still read the workspace's own files */
		workspace_of(c, root);
	else
		free(root);
	free(cutip);
}

/* Whether a file is one of its workspace's own (cutip.yaml at the root; paths.yaml,
 * secrets.yaml, vars.yaml in its cutip/), which the workspace check reads. */
static bool is_workspace_file(const char *real, const char *root)
{
	const char *name = base_name(real);
	char *dir = dir_of(real);
	bool yes = false;
	if (dir && strcmp(name, "cutip.yaml") == 0)
		yes = strcmp(dir, root) == 0;
	else if (dir && (strcmp(name, "paths.yaml") == 0 || strcmp(name, "secrets.yaml") == 0 ||
			 strcmp(name, "vars.yaml") == 0))
		yes = strcmp(base_name(dir), "cutip") == 0 &&
		      strncmp(dir, root, strlen(root)) == 0 &&
		      strlen(dir) == strlen(root) + strlen("/cutip");
	free(dir);
	return yes;
}

/* A file named on the command line is checked whatever its name; the warning says a
 * workspace scan would not take it. */
static void add_file(struct checker *c, const char *path)
{
	char *real = real_path_of(path);
	char *dir = dir_of(path);
	char *root = dir ? find_root(dir) : NULL;
	free(dir);
	if (!real || !root) {
		free(real);
		free(root);
		path_problem(c, path, ENOMEM);
		return;
	}
	bool own = is_workspace_file(real, root);
	const char *why = own ? NULL : ignore_reason(path);
	target_add(c, real, path, root, own);
	if (why) {
		struct card_diags diags = {0};
		card_diag_label(card_diags_add(&diags, CARD_WARNING, path, 0, 0,
					       "checked as a card, but a workspace scan skips "
					       "this name (%s)",
					       why),
				"skipped-name", NULL);
		keep(c, &diags);
	}
}

/* Reads the card on stdin; at most one byte more than a card may have, so that the loader
 * refuses a larger one without this reading all of it. */
static int read_stdin(struct checker *c)
{
	size_t cap = YDOC_MAX_BYTES + 1;
	c->stdin_buf = malloc(cap);
	if (!c->stdin_buf)
		return -ENOMEM;
	c->stdin_len = fread(c->stdin_buf, 1, cap, stdin);
	return ferror(stdin) ? -EIO : 0;
}

static int add_stdin(struct checker *c)
{
	if (c->stdin_real)
		return 0; /* "-" twice: one stdin */
	int rc = read_stdin(c);
	if (rc < 0)
		return rc;
	const char *name = c->stdin_name ? c->stdin_name : "-";
	char *dir = c->stdin_name ? dir_of(c->stdin_name) : strdup(".");
	char *root = dir ? find_root(dir) : NULL;
	free(dir);
	c->stdin_name = name;
	c->stdin_real = c->stdin_name[0] == '-' && !c->stdin_name[1] ? strdup("-")
								     : real_path_of(c->stdin_name);
	char *real = c->stdin_real ? strdup(c->stdin_real) : NULL;
	if (!root || !real) {
		free(root);
		free(real);
		return -ENOMEM;
	}
	return target_add(c, real, name, root, false);
}

/* What a path argument is; -errno when it cannot be read at all (nothing is checked then). */
static int add_path(struct checker *c, const char *path)
{
	if (strcmp(path, "-") == 0)
		return add_stdin(c);
	struct stat st;
	if (stat(path, &st) < 0 || access(path, S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		add_dir(c, path);
	else
		add_file(c, path);
	return 0;
}

static void check_all(struct checker *c)
{
	for (size_t i = 0; i < c->space_count; i++)
		check_workspace(c, &c->spaces[i]);
	/* What no workspace scan reached: lone files outside a cutip/ folder, skipped names,
	 * a new card on stdin. */
	for (size_t i = 0; i < c->target_count; i++) {
		const struct target *t = &c->targets[i];
		if (!t->workspace_file)
			check_card(c, t->real, t->name, &c->spaces[t->ws].values);
	}
	struct card_diags diags = {0};
	const char *root = c->space_count ? c->spaces[0].root : NULL;
	card_registry_validate(&c->reg, root, &diags);
	keep(c, &diags);
}

static void checker_free(struct checker *c)
{
	card_registry_free(&c->reg);
	for (size_t i = 0; i < c->space_count; i++) {
		free(c->spaces[i].root);
		card_values_free(&c->spaces[i].values);
	}
	free(c->spaces);
	for (size_t i = 0; i < c->target_count; i++) {
		free(c->targets[i].real);
		free(c->targets[i].name);
	}
	free(c->targets);
	pathlist_free(&c->dirs);
	pathlist_free(&c->checked);
	card_diags_free(&c->out);
	free(c->stdin_buf);
	free(c->stdin_real);
}

#define USAGE                                                                                      \
	"usage: cutipfs check [--format=text|json|sarif] [--quiet] [--stdin-name=PATH] "           \
	"PATH...|-\n"

static int usage(void)
{
	fputs(USAGE, stderr);
	return 2;
}

static int help(FILE *out)
{
	fputs(
	    USAGE
	    "\n"
	    "Checks cards, the workspace files and the refs between them; a file or sub-folder\n"
	    "against the whole workspace it lies in, reporting only its own problems.\n"
	    "\n"
	    "    --format=text     FILE:LINE:COL: error|warning: MESSAGE, one line each (default)\n"
	    "    --format=json     an array, one object per problem: file, line, column,\n"
	    "                      severity, field, rule, message\n"
	    "    --format=sarif    a SARIF 2.1.0 log, for code scanning\n"
	    "    -q, --quiet       errors only, no warnings\n"
	    "    --stdin-name=PATH the name, and place in the workspace, of the card read by -\n"
	    "    -                 read one card from stdin (an editor's unsaved buffer)\n"
	    "\n"
	    "Exit status: 0 no error (warnings allowed), 1 an error, 2 could not run.\n",
	    out);
	return 0;
}

int card_check_main(int argc, char **argv, FILE *out)
{
	static const struct option options[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"stdin-name", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct checker c = {0};
	int format = CARD_FORMAT_TEXT, opt;
	optind = 0; /* glibc: start afresh, whatever parsed before (the tests call this often) */
	while ((opt = getopt_long(argc, argv, "+f:qh", options, NULL)) != -1) {
		if (opt == 'f' && (format = card_format_from_name(optarg)) < 0) {
			fprintf(stderr, "cutipfs check: unknown format '%s'\n", optarg);
			return usage();
		} else if (opt == 'q') {
			c.quiet = true;
		} else if (opt == 'n') {
			c.stdin_name = optarg;
		} else if (opt == 'h') {
			return help(out);
		} else if (opt != 'f') {
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	int rc = 0;
	for (int i = optind; rc == 0 && i < argc; i++)
		if ((rc = add_path(&c, argv[i])) < 0)
			fprintf(stderr, "cutipfs check: %s: %s\n", argv[i], strerror(-rc));
	if (rc == 0) {
		check_all(&c);
		rc = card_report_write(&c.out, (enum card_format)format, out);
		if (fflush(out) != 0 && rc == 0)
			rc = -EIO;
		if (rc < 0)
			fprintf(stderr, "cutipfs check: %s\n", strerror(-rc));
	}
	int status = rc < 0 ? 2 : card_diags_errors(&c.out) ? 1 : 0;
	checker_free(&c);
	return status;
}
