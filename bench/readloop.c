/*
 * readloop PATH [COUNT [EXPECT]]: open, read to the end and close PATH COUNT times (default 1000)
 * in one process, each timed with clock_gettime(CLOCK_MONOTONIC). What a program that polls a
 * status file pays per read, without a fork and exec per read as a `cat` loop has.
 *
 * Prints one line of key=value pairs (seconds and microseconds):
 *   reads=1000 total_s=0.812345 mean_us=812.3 median_us=790.1 p90_us=900.2 min_us=700.0
 *   max_us=2000.0 bytes=123
 * EXPECT, when given, must be the first line of every read (a state word such as "running"):
 * a read that says otherwise fails the run (exit 1), so a benchmark never times errors.
 *
 * Built by bench/run.sh: cc -O2 -o readloop readloop.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *path, *expect;
	static char buf[1 << 16];
	double *t, total = 0, start;
	long count, bytes = 0;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s PATH [COUNT [EXPECT]]\n", argv[0]);
		return 2;
	}
	path = argv[1];
	count = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
	expect = argc > 3 ? argv[3] : NULL;
	if (count <= 0) {
		fprintf(stderr, "readloop: bad count\n");
		return 2;
	}
	t = calloc((size_t)count, sizeof(*t));
	if (!t)
		return 2;

	for (long i = 0; i < count; i++) {
		size_t len = 0;
		ssize_t n;
		int fd;

		start = now_s();
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "readloop: open %s: %s\n", path, strerror(errno));
			return 1;
		}
		while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			if (len == sizeof(buf) - 1)
				len = 0; /* longer than the buffer: keep reading, count only */
			bytes += n;
		}
		if (n < 0) {
			fprintf(stderr, "readloop: read %s: %s\n", path, strerror(errno));
			return 1;
		}
		close(fd);
		t[i] = now_s() - start;
		total += t[i];
		if (expect) {
			buf[len] = '\0';
			size_t l = strcspn(buf, "\n");
			if (l != strlen(expect) || strncmp(buf, expect, l) != 0) {
				fprintf(stderr, "readloop: read %ld of %s: first line '%.*s', want '%s'\n",
					i, path, (int)l, buf, expect);
				return 1;
			}
		}
	}

	qsort(t, (size_t)count, sizeof(*t), cmp_double);
	printf("reads=%ld total_s=%.6f mean_us=%.1f median_us=%.1f p90_us=%.1f min_us=%.1f "
	       "max_us=%.1f bytes=%ld\n",
	       count, total, total / (double)count * 1e6, t[count / 2] * 1e6,
	       t[(count * 9) / 10] * 1e6, t[0] * 1e6, t[count - 1] * 1e6, bytes / count);
	free(t);
	return 0;
}
