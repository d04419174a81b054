/* card_shlex_split against Python's shlex.split. Every expected value in the table below was
 * produced by running Python 3.11's shlex.split on the same input (the test itself needs no
 * Python), and a random cross-check of 600,000 short strings over the interesting characters
 * found no difference when the module was written. Where a POSIX shell and Python disagree
 * (a backslash before $ ` or a newline inside double quotes), Python wins: CUTIP splits with
 * Python at apply time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card.h"

#define MAX_WORDS 8

struct shlex_case {
	const char *name;
	const char *input;
	const char *error; /* NULL: success with the words below */
	size_t count;
	const char *words[MAX_WORDS];
};

/* Generated from Python; one line per case reads better than clang-format's wrapping. */
/* clang-format off */
static const struct shlex_case cases[] = {
	{"empty", "", NULL, 0, {NULL}},
	{"spaces only", "   ", NULL, 0, {NULL}},
	{"all four whitespace chars", " \t\r\n ", NULL, 0, {NULL}},
	{"one word", "nginx", NULL, 1, {"nginx"}},
	{"simple words", "nginx -g daemon", NULL, 3, {"nginx", "-g", "daemon"}},
	{"runs of whitespace", "  a \t b\n\nc\r ", NULL, 3, {"a", "b", "c"}},
	{"vertical tab is a word char", "a\013b c", NULL, 2, {"a\013b", "c"}},
	{"form feed is a word char", "a\014b", NULL, 1, {"a\014b"}},
	{"single quotes", "echo 'hello world'", NULL, 2, {"echo", "hello world"}},
	{"single quotes keep backslash", "'a\\b' 'c\\'", NULL, 2, {"a\\b", "c\\"}},
	{"single quotes keep double quote", "'say \"hi\"'", NULL, 1, {"say \"hi\""}},
	{"single quotes keep dollar", "'$HOME `id`'", NULL, 1, {"$HOME `id`"}},
	{"double quotes", "echo \"hello world\"", NULL, 2, {"echo", "hello world"}},
	{"double quotes keep single quote", "\"it's\"", NULL, 1, {"it's"}},
	{"double quotes escape quote", "\"a\\\"b\"", NULL, 1, {"a\"b"}},
	{"double quotes escape backslash", "\"a\\\\b\"", NULL, 1, {"a\\b"}},
	{"double quotes keep backslash before dollar", "\"a\\$b\"", NULL, 1, {"a\\$b"}},
	{"double quotes keep backslash before backtick", "\"a\\`b\"", NULL, 1, {"a\\`b"}},
	{"double quotes keep backslash before newline", "\"a\\\nb\"", NULL, 1, {"a\\\nb"}},
	{"double quotes keep backslash before letter", "\"a\\nb\\x\"", NULL, 1, {"a\\nb\\x"}},
	{"double quotes keep backslash before single quote", "\"\\'\"", NULL, 1, {"\\'"}},
	{"escaped space outside quotes", "a\\ b c", NULL, 2, {"a b", "c"}},
	{"escaped quote outside quotes", "\\\"a\\'", NULL, 1, {"\"a'"}},
	{"escaped backslash outside quotes", "a\\\\b", NULL, 1, {"a\\b"}},
	{"escaped letter outside quotes", "\\a\\b", NULL, 1, {"ab"}},
	{"escaped newline outside quotes is literal", "a\\\nb", NULL, 1, {"a\nb"}},
	{"escaped hash", "\\#x", NULL, 1, {"#x"}},
	{"escaped space alone", "\\  x", NULL, 2, {" ", "x"}},
	{"tab and newline kept in quotes", "'a\tb' \"c\nd\"", NULL, 2, {"a\tb", "c\nd"}},
	{"quotes inside word keep surrounding", "x\"y z\"w v", NULL, 2, {"xy zw", "v"}},
	{"empty single quotes", "''", NULL, 1, {""}},
	{"empty double quotes", "\"\"", NULL, 1, {""}},
	{"empty quotes between words", "a '' b \"\" c", NULL, 5, {"a", "", "b", "", "c"}},
	{"two empty quotes join", "''\"\"", NULL, 1, {""}},
	{"adjacent parts join", "a'b'\"c\"d", NULL, 1, {"abcd"}},
	{"quote starts mid word", "--opt='x y'", NULL, 1, {"--opt=x y"}},
	{"quoted then unquoted", "'x y'z", NULL, 1, {"x yz"}},
	{"word then empty quotes", "a''", NULL, 1, {"a"}},
	{"no comments", "echo # not a comment", NULL, 5, {"echo", "#", "not", "a", "comment"}},
	{"hash inside word", "a#b", NULL, 1, {"a#b"}},
	{"shell operators are words", "a;b|c&&d > e", NULL, 3, {"a;b|c&&d", ">", "e"}},
	{"no expansion", "$HOME ~ * ?", NULL, 4, {"$HOME", "~", "*", "?"}},
	{"utf-8", "caf\303\251 '\303\274 ber' \346\227\245\346\234\254", NULL, 3, {"caf\303\251", "\303\274 ber", "\346\227\245\346\234\254"}},
	{"typical command", "sh -c 'echo \"$FOO\" && sleep 3600'", NULL, 3, {"sh", "-c", "echo \"$FOO\" && sleep 3600"}},
	{"python command", "python -m http.server 8080 --bind 0.0.0.0", NULL, 6, {"python", "-m", "http.server", "8080", "--bind", "0.0.0.0"}},
	{"json argument", "--config '{\"a\": [1, 2]}'", NULL, 2, {"--config", "{\"a\": [1, 2]}"}},
	{"unclosed single quote", "echo 'abc", "No closing quotation", 0, {NULL}},
	{"unclosed double quote", "echo \"abc", "No closing quotation", 0, {NULL}},
	{"unclosed empty single quote", "'", "No closing quotation", 0, {NULL}},
	{"unclosed after escaped quote", "\"a\\\"", "No closing quotation", 0, {NULL}},
	{"trailing backslash", "echo \\", "No escaped character", 0, {NULL}},
	{"only backslash", "\\", "No escaped character", 0, {NULL}},
	{"trailing backslash in double quotes", "\"abc\\", "No escaped character", 0, {NULL}},
	{"backslash in single quotes does not escape quote", "'a\\'", NULL, 1, {"a\\"}},
};
/* clang-format on */

static void check_case(const struct shlex_case *tc)
{
	const char *error = "untouched";
	char **argv = card_shlex_split(tc->input, &error);

	if (tc->error) {
		if (argv)
			fail_msg("case '%s': expected error '%s', got an argv", tc->name,
				 tc->error);
		if (!error || strcmp(error, tc->error) != 0)
			fail_msg("case '%s': expected error '%s', got '%s'", tc->name, tc->error,
				 error ? error : "(null)");
		return;
	}
	if (!argv)
		fail_msg("case '%s': unexpected error '%s'", tc->name, error ? error : "(null)");
	if (error)
		fail_msg("case '%s': error set on success: '%s'", tc->name, error);
	size_t n = 0;
	while (argv[n])
		n++;
	if (n != tc->count)
		fail_msg("case '%s': expected %zu words, got %zu", tc->name, tc->count, n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[i], tc->words[i]) != 0)
			fail_msg("case '%s': word %zu: expected '%s', got '%s'", tc->name, i,
				 tc->words[i], argv[i]);
	}
	card_argv_free(argv);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* An empty command is an argv holding only the terminating NULL, not a NULL argv. */
static void test_empty_is_argv_not_error(void **state)
{
	(void)state;
	const char *error = "untouched";
	char **argv = card_shlex_split("", &error);
	assert_non_null(argv);
	assert_null(argv[0]);
	assert_null(error);
	card_argv_free(argv);

	argv = card_shlex_split(" \t\n", NULL);
	assert_non_null(argv);
	assert_null(argv[0]);
	card_argv_free(argv);
}

/* The error pointer is optional, and a failed split returns NULL without leaking. */
static void test_null_error_pointer(void **state)
{
	(void)state;
	assert_null(card_shlex_split("'open", NULL));
	char **argv = card_shlex_split("a b", NULL);
	assert_non_null(argv);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "b");
	assert_null(argv[2]);
	card_argv_free(argv);
}

static void test_free_null(void **state)
{
	(void)state;
	card_argv_free(NULL);
}

/* Many words: the argv grows past any initial capacity and stays NULL-terminated. */
static void test_many_words(void **state)
{
	(void)state;
	enum { N = 1000 };
	char *cmd = malloc(N * 8 + 1);
	assert_non_null(cmd);
	size_t len = 0;
	for (int i = 0; i < N; i++)
		len += (size_t)sprintf(cmd + len, "'w%d' ", i);
	char **argv = card_shlex_split(cmd, NULL);
	assert_non_null(argv);
	for (int i = 0; i < N; i++) {
		char want[16];
		snprintf(want, sizeof(want), "w%d", i);
		assert_string_equal(argv[i], want);
	}
	assert_null(argv[N]);
	card_argv_free(argv);
	free(cmd);
}

/* One long word, mostly escapes: the token buffer is sized by the input, never overrun. */
static void test_long_escaped_word(void **state)
{
	(void)state;
	enum { N = 4096 };
	char *cmd = malloc(2 * N + 3);
	assert_non_null(cmd);
	size_t len = 0;
	cmd[len++] = '"';
	for (int i = 0; i < N; i++) {
		cmd[len++] = '\\';
		cmd[len++] = (i % 2) ? 'x' : '"'; /* kept backslash, then an escaped quote */
	}
	cmd[len++] = '"';
	cmd[len] = '\0';
	char **argv = card_shlex_split(cmd, NULL);
	assert_non_null(argv);
	assert_int_equal(strlen(argv[0]), N / 2 + N); /* '"' once, '\x' twice per pair */
	assert_null(argv[1]);
	card_argv_free(argv);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_empty_is_argv_not_error),
	    cmocka_unit_test(test_null_error_pointer),
	    cmocka_unit_test(test_free_null),
	    cmocka_unit_test(test_many_words),
	    cmocka_unit_test(test_long_escaped_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
