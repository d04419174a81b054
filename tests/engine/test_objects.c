/*
 * Networks, volumes and images against the real engine.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

static const char *const sleeper[] = {"sleep", "30", NULL};

static const char *str(const cJSON *j, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

/* A subnet unlikely to collide with anything else on the host, different per run. */
static void subnet_for_run(char *subnet, size_t slen, char *gw, size_t glen)
{
	int n = 20 + (int)(getpid() % 200);

	snprintf(subnet, slen, "10.213.%d.0/24", n);
	snprintf(gw, glen, "10.213.%d.1", n);
}

static void test_network_idempotent(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], id[ENGINE_ID_SIZE], id2[ENGINE_ID_SIZE], subnet[32], gw[32], err[512] = "";
	const cJSON *cfg, *item;
	cJSON *labels = test_labels(), *j = NULL;
	bool created = false, listed = false;

	test_name(name, sizeof(name), "net");
	subnet_for_run(subnet, sizeof(subnet), gw, sizeof(gw));
	assert_int_equal(engine_network_create(e, name, NULL, subnet, gw, labels, id, sizeof(id),
					       &created, err, sizeof(err)),
			 0);
	assert_true(created);
	assert_true(strlen(id) >= 12);
	/* Again: the same network, not an error, not a duplicate. */
	assert_int_equal(engine_network_create(e, name, "bridge", subnet, gw, labels, id2,
					       sizeof(id2), &created, err, sizeof(err)),
			 0);
	assert_false(created);
	assert_string_equal(id, id2);
	cJSON_Delete(labels);

	assert_int_equal(engine_network_inspect(e, name, &j, err, sizeof(err)), 0);
	assert_string_equal(str(j, "Name"), name);
	assert_string_equal(str(j, "Driver"), "bridge");
	cfg = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "IPAM"), "Config"), 0);
	assert_string_equal(str(cfg, "Subnet"), subnet);
	assert_string_equal(str(cfg, "Gateway"), gw);
	assert_string_equal(str(cJSON_GetObjectItem(j, "Labels"), "cutipfs.test"), "1");
	cJSON_Delete(j);

	assert_int_equal(engine_network_list(e, test_run_label(), &j, err, sizeof(err)), 0);
	cJSON_ArrayForEach(item, j)
	{
		if (!strcmp(str(item, "Name"), name))
			listed = true;
	}
	cJSON_Delete(j);
	assert_true(listed);

	assert_int_equal(engine_network_remove(e, name, err, sizeof(err)), 0);
	assert_int_equal(engine_network_inspect(e, name, &j, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_network_remove(e, name, err, sizeof(err)), -ENOENT);
}

static void test_network_in_use(void **state)
{
	struct engine *e = test_need_engine(state);
	char net[96], name[96], id[ENGINE_ID_SIZE], err[512] = "";
	cJSON *labels = test_labels(), *c = test_config(false, sleeper);

	test_name(net, sizeof(net), "busynet");
	test_name(name, sizeof(name), "onnet");
	assert_int_equal(engine_network_create(e, net, NULL, NULL, NULL, labels, NULL, 0, NULL, err,
					       sizeof(err)),
			 0);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(c, "HostConfig"), "NetworkMode", net);
	assert_int_equal(engine_container_create(e, name, c, id, sizeof(id), err, sizeof(err)), 0);
	assert_int_equal(engine_container_start(e, id, err, sizeof(err)), 0);

	/* Docker: 403 "has active endpoints"; Podman: 500 "network is being used". */
	err[0] = '\0';
	assert_int_equal(engine_network_remove(e, net, err, sizeof(err)), -EBUSY);
	fprintf(stderr, "# %s\n", err);
	assert_true(err[0] != '\0');

	assert_int_equal(engine_container_remove(e, id, true, false, err, sizeof(err)), 0);
	assert_int_equal(engine_network_remove(e, net, err, sizeof(err)), 0);
	cJSON_Delete(labels);
	cJSON_Delete(c);
}

static void test_network_predefined(void **state)
{
	struct engine *e = test_need_engine(state);
	char err[512] = "";

	/* Podman maps "bridge" to its default network "podman", which it refuses with a 500. */
	assert_int_equal(engine_network_remove(e, "bridge", err, sizeof(err)), -EACCES);
	assert_true(err[0] != '\0');
}

static void test_volume(void **state)
{
	struct engine *e = test_need_engine(state);
	char name[96], vol[96], id[ENGINE_ID_SIZE], bind[160], err[512] = "";
	cJSON *labels = test_labels(), *j = NULL, *c = test_config(false, sleeper), *binds;
	bool created = false, listed = false;
	const cJSON *item;

	test_name(vol, sizeof(vol), "vol");
	assert_int_equal(engine_volume_create(e, vol, NULL, NULL, labels, &created, err, sizeof(err)), 0);
	assert_true(created);
	assert_int_equal(engine_volume_create(e, vol, NULL, NULL, labels, &created, err, sizeof(err)), 0);
	assert_false(created);
	cJSON_Delete(labels);

	assert_int_equal(engine_volume_inspect(e, vol, &j, err, sizeof(err)), 0);
	assert_string_equal(str(j, "Name"), vol);
	assert_string_equal(str(cJSON_GetObjectItem(j, "Labels"), "cutipfs.test"), "1");
	cJSON_Delete(j);

	assert_int_equal(engine_volume_list(e, test_run_label(), &j, err, sizeof(err)), 0);
	cJSON_ArrayForEach(item, j)
	{
		if (!strcmp(str(item, "Name"), vol))
			listed = true;
	}
	cJSON_Delete(j);
	assert_true(listed);

	test_name(name, sizeof(name), "onvol");
	snprintf(bind, sizeof(bind), "%s:/data", vol);
	binds = cJSON_AddArrayToObject(cJSON_AddObjectToObject(c, "HostConfig"), "Binds");
	cJSON_AddItemToArray(binds, cJSON_CreateString(bind));
	assert_int_equal(engine_container_create(e, name, c, id, sizeof(id), err, sizeof(err)), 0);
	cJSON_Delete(c);
	assert_int_equal(engine_volume_remove(e, vol, false, err, sizeof(err)), -EBUSY);
	assert_true(err[0] != '\0');

	assert_int_equal(engine_container_remove(e, id, true, false, err, sizeof(err)), 0);
	assert_int_equal(engine_volume_remove(e, vol, false, err, sizeof(err)), 0);
	assert_int_equal(engine_volume_inspect(e, vol, &j, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_volume_remove(e, vol, false, err, sizeof(err)), -ENOENT);
}

static void test_image_tag_remove(void **state)
{
	struct engine *e = test_need_engine(state);
	char repo[96], ref[128], err[512] = "";
	cJSON *base = NULL, *tagged = NULL;

	test_name(repo, sizeof(repo), "tag");
	snprintf(ref, sizeof(ref), "%s:t1", repo);
	test_track_image(ref);
	assert_int_equal(engine_image_inspect(e, TEST_IMAGE, &base, err, sizeof(err)), 0);
	assert_int_equal(engine_image_tag(e, TEST_IMAGE, repo, "t1", err, sizeof(err)), 0);
	assert_int_equal(engine_image_inspect(e, ref, &tagged, err, sizeof(err)), 0);
	assert_string_equal(str(base, "Id"), str(tagged, "Id"));
	cJSON_Delete(base);
	cJSON_Delete(tagged);

	/* Removing one of two tags only untags; the base image stays. */
	assert_int_equal(engine_image_remove(e, ref, false, err, sizeof(err)), 0);
	assert_int_equal(engine_image_inspect(e, ref, &tagged, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_image_remove(e, ref, false, err, sizeof(err)), -ENOENT);
	assert_int_equal(engine_image_inspect(e, TEST_IMAGE, &base, err, sizeof(err)), 0);
	cJSON_Delete(base);

	assert_int_equal(engine_image_inspect(e, "a b", &base, err, sizeof(err)), -EINVAL);
	assert_int_equal(engine_image_tag(e, TEST_IMAGE, "bad repo", NULL, err, sizeof(err)),
			 -EINVAL);
}

/* A one-file rootfs tar, written with libarchive. */
static void write_rootfs_tar(const char *path)
{
	static const char hello[] = "hello from an imported image\n";
	struct archive *a = archive_write_new();
	struct archive_entry *ent = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_set_pathname(ent, "hello.txt");
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_size(ent, sizeof(hello) - 1);
	assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, hello, sizeof(hello) - 1), sizeof(hello) - 1);
	archive_entry_free(ent);
	archive_write_close(a);
	archive_write_free(a);
}

static int count_msgs(const cJSON *msg, void *ctx)
{
	(void)msg;
	(*(int *)ctx)++;
	return 0;
}

static void test_image_import(void **state)
{
	struct engine *e = test_need_engine(state);
	char repo[96], ref[128], tar[128], err[512] = "";
	cJSON *img = NULL;
	int msgs = 0;

	test_name(repo, sizeof(repo), "import");
	snprintf(ref, sizeof(ref), "%s:v1", repo);
	snprintf(tar, sizeof(tar), "/tmp/cutipfs-test-%ld-rootfs.tar", (long)getpid());
	test_track_image(ref);
	write_rootfs_tar(tar);
	assert_int_equal(
	    engine_image_import(e, tar, repo, "v1", count_msgs, &msgs, err, sizeof(err)), 0);
	unlink(tar);
	assert_true(msgs > 0);
	assert_int_equal(engine_image_inspect(e, ref, &img, err, sizeof(err)), 0);
	cJSON_Delete(img);
	assert_int_equal(engine_image_remove(e, ref, false, err, sizeof(err)), 0);

	assert_int_equal(engine_image_import(e, "/nonexistent/cutipfs.tar", repo, "v1", NULL, NULL,
					     err, sizeof(err)),
			 -ENOENT);
}

static void test_image_pull_error(void **state)
{
	struct engine *e = test_need_engine(state);
	char err[512] = "";
	double t0 = test_now();

	/* No registry answers on port 1: Docker fails with a 500 before the stream, Podman with
	 * an errorDetail inside a 200 stream. Both are -EIO with the registry's error. */
	assert_int_equal(engine_image_pull(e, "localhost:1/cutipfs-nope", NULL, NULL, NULL, 30, err,
					   sizeof(err)),
			 -EIO);
	fprintf(stderr, "# %s (%.1fs)\n", err, test_now() - t0);
	assert_non_null(strcasestr(err, "refused"));
}

#define T(f) cmocka_unit_test_teardown(f, test_sweep_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_network_idempotent), T(test_network_in_use),
	    T(test_network_predefined), T(test_volume),
	    T(test_image_tag_remove),	T(test_image_import),
	    T(test_image_pull_error),
	};

	if (!test_url())
		return test_skip_all("engine_objects");

	return cmocka_run_group_tests_name("engine_objects", tests, test_group_setup,
					   test_group_teardown);
}
