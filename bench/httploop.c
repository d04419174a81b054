/*
 * httploop SOCKET NAME [COUNT [API]]: GET /vAPI/containers/NAME/json COUNT times (default 1000,
 * API default 1.41) over the engine's unix socket, on one libcurl easy handle (one kept-alive
 * connection), each request timed with clock_gettime(CLOCK_MONOTONIC). The cheapest way a
 * program can ask the engine for one container's state: the raw API without a CLI's start-up.
 *
 * Prints one line of key=value pairs, as bench/readloop does:
 *   reads=1000 total_s=0.412345 mean_us=412.3 median_us=400.1 p90_us=450.2 min_us=350.0
 *   max_us=900.0 bytes=8123 connects=1
 * Any answer other than HTTP 200 fails the run (exit 1).
 *
 * Built by bench/run.sh: cc -O2 -o httploop httploop.c $(pkg-config --cflags --libs libcurl)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

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

/* The body is received in full, then dropped: only its size is kept. */
static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	*(long *)u += (long)(sz * n);
	return sz * n;
}

int main(int argc, char **argv)
{
	const char *sock, *name, *api;
	char url[512], errbuf[CURL_ERROR_SIZE];
	double *t, total = 0, start;
	long count, bytes = 0, connects = 0;
	CURL *h;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s SOCKET NAME [COUNT [API]]\n", argv[0]);
		return 2;
	}
	sock = argv[1];
	name = argv[2];
	count = argc > 3 ? strtol(argv[3], NULL, 10) : 1000;
	api = argc > 4 ? argv[4] : "1.41";
	if (count <= 0) {
		fprintf(stderr, "httploop: bad count\n");
		return 2;
	}
	t = calloc((size_t)count, sizeof(*t));
	if (!t)
		return 2;
	snprintf(url, sizeof(url), "http://localhost/v%s/containers/%s/json", api, name);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	if (!h)
		return 2;
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &bytes);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);

	for (long i = 0; i < count; i++) {
		long status = 0, nconn = 0;
		CURLcode cc;

		errbuf[0] = '\0';
		start = now_s();
		cc = curl_easy_perform(h);
		t[i] = now_s() - start;
		total += t[i];
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn);
		connects += nconn;
		if (cc != CURLE_OK || status != 200) {
			fprintf(stderr, "httploop: request %ld: %s (HTTP %ld)\n", i,
				errbuf[0] ? errbuf : curl_easy_strerror(cc), status);
			return 1;
		}
	}
	curl_easy_cleanup(h);
	curl_global_cleanup();

	qsort(t, (size_t)count, sizeof(*t), cmp_double);
	printf("reads=%ld total_s=%.6f mean_us=%.1f median_us=%.1f p90_us=%.1f min_us=%.1f "
	       "max_us=%.1f bytes=%ld connects=%ld\n",
	       count, total, total / (double)count * 1e6, t[count / 2] * 1e6,
	       t[(count * 9) / 10] * 1e6, t[0] * 1e6, t[count - 1] * 1e6, bytes / count,
	       connects);
	free(t);
	return 0;
}
