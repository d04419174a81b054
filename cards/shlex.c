/* Python's shlex.split(s) (posix=True, comments=False, whitespace_split=True), byte for byte.
 *
 * CUTIP stores a container's command as one string and runs shlex.split on it at apply time, so
 * cutipfs must split exactly as Python does, quirks included, rather than as a POSIX shell does:
 * - whitespace is only ' ', '\t', '\r' and '\n' (a vertical tab or form feed is a word char);
 * - inside double quotes a backslash escapes only '"' and '\\'; before anything else, '$', '`'
 *   and a newline included, it is kept literally;
 * - outside quotes a backslash escapes any character, a newline too (no line continuation);
 * - a token that had quotes is kept even when empty ('' gives ""), and quoted and unquoted
 *   parts next to each other join into one word.
 * The state machine below mirrors shlex.read_token so the two can be compared line by line. */
#include <stdlib.h>
#include <string.h>

#include "card.h"

/* shlex's state values, named after the character Python stores in self.state. */
enum shlex_state {
	ST_SPACE,  /* ' ': between tokens */
	ST_WORD,   /* 'a': inside an unquoted part of a token */
	ST_SINGLE, /* "'": inside single quotes */
	ST_DOUBLE, /* '"': inside double quotes */
	ST_ESCAPE, /* '\\': after a backslash; `escaped_from` says where it was */
};

static bool is_shlex_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct argv_buf {
	char **argv;
	size_t count, capacity;
};

/* Appends a copy of tok[0..len) and keeps argv NULL-terminated; false on allocation failure. */
static bool argv_push(struct argv_buf *buf, const char *tok, size_t len)
{
	if (buf->count + 2 > buf->capacity) {
		size_t cap = buf->capacity ? buf->capacity * 2 : 8;
		char **grown = realloc(buf->argv, cap * sizeof(*grown));
		if (!grown)
			return false;
		buf->argv = grown;
		buf->capacity = cap;
		buf->argv[buf->count] = NULL; /* stays freeable if the copy below fails */
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return false;
	memcpy(copy, tok, len);
	copy[len] = '\0';
	buf->argv[buf->count++] = copy;
	buf->argv[buf->count] = NULL;
	return true;
}

char **card_shlex_split(const char *command, const char **error)
{
	static const char *const no_memory = "Out of memory";
	const char *err = NULL;
	struct argv_buf buf = {0};
	char *tok = NULL;

	if (error)
		*error = NULL;
	if (!command)
		command = "";

	/* A token is never longer than the input, so one buffer of that size serves them all. */
	size_t in_len = strlen(command);
	tok = malloc(in_len + 1);
	if (!tok) {
		err = no_memory;
		goto fail;
	}
	size_t tok_len = 0;
	bool quoted = false; /* the current token had quotes, so it counts even when empty */
	enum shlex_state state = ST_SPACE;
	enum shlex_state escaped_from = ST_WORD;

	/* i runs to in_len inclusive: the final '\0' plays the part of Python's end of input. */
	for (size_t i = 0; i <= in_len; i++) {
		char c = command[i];
		bool eof = i == in_len;

		switch (state) {
		case ST_SPACE:
		case ST_WORD:
			if (eof || is_shlex_space(c)) {
				if (tok_len > 0 || quoted) {
					if (!argv_push(&buf, tok, tok_len)) {
						err = no_memory;
						goto fail;
					}
				}
				tok_len = 0;
				quoted = false;
				state = ST_SPACE;
			} else if (c == '\\') {
				escaped_from = ST_WORD;
				state = ST_ESCAPE;
			} else if (c == '\'') {
				state = ST_SINGLE;
			} else if (c == '"') {
				state = ST_DOUBLE;
			} else {
				tok[tok_len++] = c;
				state = ST_WORD;
			}
			break;
		case ST_SINGLE:
		case ST_DOUBLE:
			quoted = true;
			if (eof) {
				err = "No closing quotation";
				goto fail;
			}
			if (c == (state == ST_SINGLE ? '\'' : '"')) {
				state = ST_WORD;
			} else if (c == '\\' && state == ST_DOUBLE) {
				/* Only double quotes are among shlex's escapedquotes. */
				escaped_from = ST_DOUBLE;
				state = ST_ESCAPE;
			} else {
				tok[tok_len++] = c;
			}
			break;
		case ST_ESCAPE:
			if (eof) {
				err = "No escaped character";
				goto fail;
			}
			/* In quotes only the quote itself and the backslash can be escaped; before
			 * anything else the backslash stays. */
			if (escaped_from == ST_DOUBLE && c != '"' && c != '\\')
				tok[tok_len++] = '\\';
			tok[tok_len++] = c;
			state = escaped_from;
			break;
		}
	}
	free(tok);
	tok = NULL;

	/* No words at all is an empty argv, not an error: the caller decides what that means. */
	if (!buf.argv) {
		buf.argv = calloc(1, sizeof(*buf.argv));
		if (!buf.argv) {
			err = no_memory;
			goto fail;
		}
	}
	return buf.argv;

fail:
	free(tok);
	card_argv_free(buf.argv);
	if (error)
		*error = err;
	return NULL;
}

void card_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* Python's shlex.quote: as it is when every byte is safe ([A-Za-z0-9@%+=:,./_-]), else in single
 * quotes, each ' written '"'"'. card_shlex_split gives the word back. */
char *card_shlex_quote(const char *word)
{
	static const char safe[] = "@%+=:,./_-";
	size_t n = 0, quotes = 0;
	bool plain = *word != '\0';
	for (const char *p = word; *p; p++, n++) {
		unsigned char ch = (unsigned char)*p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr(safe, ch)))
			plain = false;
		quotes += ch == '\'';
	}
	if (plain)
		return strdup(word);
	char *out = malloc(n + quotes * 4 + 3), *o = out;
	if (!out)
		return NULL;
	*o++ = '\'';
	for (const char *p = word; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\"'\"'", 5);
			o += 5;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}
