/* A start the engine refused because a host port is taken (-EADDRINUSE): who holds the port,
 * said after the engine's own words, which name only the port. First a running container that
 * publishes it (GET /containers/json: each one's Ports); else, when the engine runs on this
 * host (a unix socket, or tcp to loopback; not ssh), the process listening on it, found as
 * ss -ltnp finds it: the socket's inode in /proc/net/tcp and tcp6 (proc(5)), then the
 * /proc/PID/fd link that names that inode. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker.h"
#include "engine-int.h"

/* The port in the engine's words: "Bind for 0.0.0.0:8080 failed", "listen tcp4 :8080: bind". */
static unsigned port_in(const char *msg)
{
	static const char *const marks[] = {"Bind for ", "listen tcp", "listen udp"};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(msg, marks[i]);
		if (!p)
			continue;
		/* The first ':' followed by digits after the mark. */
		for (p += strlen(marks[i]); (p = strchr(p, ':')); p++) {
			char *end;
			unsigned long port = strtoul(p + 1, &end, 10);
			if (end != p + 1 && port > 0 && port < 65536)
				return (unsigned)port;
		}
	}
	return 0;
}

/* A running container that publishes port: its name into out. */
static bool container_holder(struct engine *e, unsigned port, char *out, size_t len)
{
	cJSON *list = NULL;
	bool found = false;
	if (engine_list(e, "/containers/json", NULL, NULL, &list, NULL, 0) < 0)
		return false;
	const cJSON *c;
	cJSON_ArrayForEach(c, list)
	{
		const cJSON *p;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "Ports"))
		{
			if (docker_jnum(p, "PublicPort") != (long)port)
				continue;
			const cJSON *names = cJSON_GetObjectItemCaseSensitive(c, "Names");
			const cJSON *first = cJSON_GetArrayItem(names, 0);
			const char *name = cJSON_IsString(first) ? first->valuestring : "";
			snprintf(out, len, "container %s", name[0] == '/' ? name + 1 : name);
			found = true;
			break;
		}
		if (found)
			break;
	}
	cJSON_Delete(list);
	return found;
}

/* The inode of a socket listening on port in a /proc/net/tcp-style table, or 0. */
static unsigned long listening_inode(const char *table, unsigned port)
{
	FILE *f = fopen(table, "re");
	char line[512];
	unsigned long inode = 0;
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) { /* the header */
		fclose(f);
		return 0;
	}
	while (!inode && fgets(line, sizeof(line), f)) {
		char local[128];
		unsigned state;
		unsigned long ino;
		/* sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %127s %*s %x %*s %*s %*s %*s %*s %lu", local, &state, &ino) !=
		    3)
			continue;
		const char *colon = strrchr(local, ':');
		if (state == 0x0A /* LISTEN */ && colon && strtoul(colon + 1, NULL, 16) == port)
			inode = ino;
	}
	fclose(f);
	return inode;
}

/* The process holding socket inode: "process NAME (pid N)" into out. */
static bool process_holder(unsigned long inode, char *out, size_t len)
{
	char want[64], path[600], link[64];
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	DIR *proc = opendir("/proc");
	struct dirent *d;
	bool found = false;
	while (proc && !found && (d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", d->d_name);
		DIR *fds = opendir(path);
		struct dirent *fd;
		while (fds && !found && (fd = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", d->d_name, fd->d_name);
			ssize_t n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
		if (fds)
			closedir(fds);
		if (!found)
			continue;
		char comm[64] = "?";
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		FILE *f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		if (f)
			fclose(f);
		snprintf(out, len, "process %s (pid %s)", comm, d->d_name);
	}
	if (proc)
		closedir(proc);
	return found;
}

/* Whether the engine runs on this host: a unix socket (not one ssh forwards), or tcp to a
 * loopback address. */
static bool engine_here(const struct engine *e)
{
	static const char *const here[] = {"unix://", "tcp://127.",
					   "tcp://localhost:", "tcp://[::1]:"};
	for (size_t i = 0; i < sizeof(here) / sizeof(here[0]); i++)
		if (strncmp(e->endpoint, here[i], strlen(here[i])) == 0)
			return true;
	return false;
}

void engine_port_holder(struct engine *e, char *err, size_t errlen)
{
	char who[300];
	unsigned port = err ? port_in(err) : 0;
	if (!port)
		return;
	bool found = container_holder(e, port, who, sizeof(who));
	if (!found && engine_here(e)) {
		unsigned long inode = listening_inode("/proc/net/tcp", port);
		if (!inode)
			inode = listening_inode("/proc/net/tcp6", port);
		found = inode && process_holder(inode, who, sizeof(who));
	}
	size_t n = strlen(err);
	if (found)
		snprintf(err + n, errlen - n, " (port %u is held by %s)", port, who);
	else
		snprintf(err + n, errlen - n, " (port %u is taken on the engine's host)", port);
}
