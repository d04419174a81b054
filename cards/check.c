/* `cutipfs check`: CUTIP's discovery order, then every card, its placeholders and the graph,
 * reported one line per problem the way a compiler does, and nothing at all when all is well. */
#include "check.h"

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "placeholder.h"

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

/* paths.yaml and secrets.yaml of one workspace root, loaded once however many arguments
 * lie in that workspace. */
struct workspace {
	char *root;
	struct card_values values;
};

struct checker {
	FILE *out;
	struct card_registry reg;
	struct workspace *spaces;
	size_t space_count;
	struct pathlist checked; /* real paths of the files checked, so none is checked twice */
	const char *first_root;	 /* for group workflows, as CUTIP has one project root */
	size_t errors;
};

/* Prints and counts, then empties, a list of problems. */
static void report(struct checker *c, struct card_diags *diags)
{
	c->errors += card_diags_errors(diags);
	card_diags_print(diags, c->out);
	card_diags_free(diags);
}

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

static const struct card_values *workspace_values(struct checker *c, char *root)
{
	for (size_t i = 0; i < c->space_count; i++)
		if (strcmp(c->spaces[i].root, root) == 0) {
			free(root);
			return &c->spaces[i].values;
		}
	struct workspace *spaces = realloc(c->spaces, (c->space_count + 1) * sizeof(*spaces));
	if (!spaces) {
		free(root);
		return NULL;
	}
	c->spaces = spaces;
	struct workspace *ws = &spaces[c->space_count++];
	ws->root = root;
	if (!c->first_root)
		c->first_root = root;
	struct card_diags diags = {0};
	char *cutip_dir = path_join(root, "cutip");
	if (cutip_dir)
		card_values_load(&ws->values, cutip_dir, root, &diags);
	else
		memset(&ws->values, 0, sizeof(ws->values));
	free(cutip_dir);
	report(c, &diags);
	return &ws->values;
}

/* Whether the file was checked already (named twice, or by a directory and by itself). */
static bool already_checked(struct checker *c, const char *file)
{
	char *real = realpath(file, NULL);
	if (!real)
		return false;
	for (size_t i = 0; i < c->checked.count; i++)
		if (strcmp(c->checked.items[i], real) == 0) {
			free(real);
			return true;
		}
	pathlist_add(&c->checked, real);
	return false;
}

static void check_file(struct checker *c, const char *file, const struct card_values *values)
{
	if (already_checked(c, file))
		return;
	struct card_diags diags = {0};
	struct card *card = NULL;
	if (card_parse_file(file, &card, &diags) == 0) {
		if (values)
			card_placeholders_check(card, values, &diags);
		card_registry_add(&c->reg, card, &diags);
	}
	report(c, &diags);
}

static void check_dir(struct checker *c, const char *path)
{
	char *cutip = path_join(path, "cutip");
	char *root = NULL;
	const char *scan = path;
	if (cutip && is_dir(cutip)) {
		root = realpath(path, NULL);
		scan = cutip;
	} else {
		root = find_root(path);
	}
	const struct card_values *values = root ? workspace_values(c, root) : NULL;
	char **files = NULL;
	int n = card_discover(scan, &files);
	if (n < 0) {
		struct card_diags diags = {0};
		card_diags_add(&diags, CARD_ERROR, scan, 0, 0, "%s", strerror(errno));
		report(c, &diags);
	}
	for (int i = 0; i < n; i++) {
		check_file(c, files[i], values);
		free(files[i]);
	}
	free(files);
	free(cutip);
}

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	if (!slash)
		return strdup(".");
	return strndup(file, slash == file ? 1 : (size_t)(slash - file));
}

/* A file named on the command line is checked whatever its name; the warning says a
 * workspace scan would not take it. */
static void check_lone_file(struct checker *c, const char *path)
{
	const char *why = ignore_reason(path);
	if (why) {
		struct card_diags diags = {0};
		card_diags_add(&diags, CARD_WARNING, path, 0, 0,
			       "checked as a card, but a workspace scan skips this name (%s)", why);
		report(c, &diags);
	}
	char *dir = dir_of(path);
	char *root = dir ? find_root(dir) : NULL;
	free(dir);
	check_file(c, path, root ? workspace_values(c, root) : NULL);
}

static void check_path(struct checker *c, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		struct card_diags diags = {0};
		card_diags_add(&diags, CARD_ERROR, path, 0, 0, "%s", strerror(errno));
		report(c, &diags);
	} else if (S_ISDIR(st.st_mode)) {
		check_dir(c, path);
	} else {
		check_lone_file(c, path);
	}
}

int card_check_main(int argc, char **argv, FILE *out)
{
	if (argc < 1) {
		fprintf(stderr, "usage: cutipfs check PATH...\n");
		return 2;
	}
	struct checker c = {.out = out};
	for (int i = 0; i < argc; i++)
		check_path(&c, argv[i]);
	struct card_diags diags = {0};
	card_registry_validate(&c.reg, c.first_root, &diags);
	report(&c, &diags);
	card_registry_free(&c.reg);
	for (size_t i = 0; i < c.space_count; i++) {
		free(c.spaces[i].root);
		card_values_free(&c.spaces[i].values);
	}
	free(c.spaces);
	pathlist_free(&c.checked);
	fflush(out);
	return c.errors ? 1 : 0;
}
