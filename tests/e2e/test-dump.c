/* spice-sideband-dump: its output on a working server, and its exit codes
 * and messages for a bad URI, an unreachable server, a refused password
 * and a server without the sideband.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* Runs the dump tool with @args; returns its exit status. */
static int
run_dump(const char *const *args, char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    int status = -1;

    g_ptr_array_add(argv, (gpointer)g_getenv("SSB_DUMP"));
    for (guint i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                 &status, &error);
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(status));
    g_test_message("dump exit %d; stderr: %s", WEXITSTATUS(status), *err);
    return WEXITSTATUS(status);
}

static void
expect_failure(const char *const *args, int code, const char *message)
{
    g_autofree char *out = NULL, *err = NULL;

    g_assert_cmpint(run_dump(args, &out, &err), ==, code);
    g_assert_nonnull(strstr(err, message));
}

static void
test_bad_uri(void)
{
    expect_failure((const char *[]){ "http://example.com", NULL }, 2, "bad URI");
    expect_failure((const char *[]){ "spice://host:99999", NULL }, 2, "bad port");
    expect_failure((const char *[]){ "spice+unix://relative", NULL }, 2, "bad URI");
    expect_failure((const char *[]){ NULL }, 1, "usage");
}

static void
test_unreachable(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(addr);
    g_autofree char *uri = NULL;

    /* A port that was just free (bound, never listening). */
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    uri = g_strdup_printf("spice://127.0.0.1:%u", ntohs(addr.sin_port));
    expect_failure((const char *[]){ uri, "--timeout", "20", NULL }, 3, "cannot connect");
    close(fd);
    expect_failure((const char *[]){ "spice+unix:///nonexistent/ssb.sock", NULL }, 3,
                   "cannot connect");
}

static void
test_bad_password(void)
{
    const char *args[] = { "--password", "secret", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, args);

    expect_failure((const char *[]){ vmm->uri, "--password", "wrong", NULL }, 4,
                   "authentication failed");
    test_vmm_stop(vmm);
}

static void
test_no_sideband(void)
{
    g_autofree char *dir = g_dir_make_tmp("ssb-e2e-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "spice.sock", NULL);
    g_autofree char *listen = g_strdup_printf("unix:%s", path);
    g_autofree char *uri = g_strdup_printf("spice+unix://%s", path);
    const char *argv[] = { g_getenv("SSB_PLAIN_SPICE_SERVER"), listen, NULL };
    g_autoptr(GError) error = NULL;
    GPid pid;
    int in_fd, out_fd;
    char ready[6] = { 0 };

    g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &pid,
                             &in_fd, &out_fd, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(read(out_fd, ready, 5), ==, 5);
    g_assert_cmpstr(ready, ==, "ready");
    expect_failure((const char *[]){ uri, NULL }, 5, "no sideband port");
    close(in_fd); /* the server exits when its stdin closes */
    close(out_fd);
    g_spawn_close_pid(pid);
    g_unlink(path);
    g_rmdir(dir);
}

static void
test_dump_frames(void)
{
    const char *args[] = { "--scanouts", "2", "--size", "96x64", "--fps", "60",
                           "--password", "pw", NULL };
    TestVmm *vmm = test_vmm_start(TRUE, args);
    g_autofree char *dir = g_dir_make_tmp("ssb-e2e-png-XXXXXX", NULL);
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *png0 = g_build_filename(dir, "scanout-0.png", NULL);
    g_autofree char *png1 = g_build_filename(dir, "scanout-1.png", NULL);
    const char *dump_args[] = { vmm->uri, "--password", "pw", "--frames", "5", "--json",
                                "--png", dir, NULL };

    g_assert_cmpint(run_dump(dump_args, &out, &err), ==, 0);
    g_test_message("dump: %s", out);
    g_assert_nonnull(strstr(out, "\"ready\": true"));
    g_assert_nonnull(strstr(out, "\"path\": \"local\""));
    g_assert_nonnull(strstr(out, "\"id\": 1"));
    g_assert_nonnull(strstr(out, "\"path\": \"shm\""));
    g_assert_true(g_file_test(png0, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(png1, G_FILE_TEST_IS_REGULAR));
    g_unlink(png0);
    g_unlink(png1);
    g_rmdir(dir);
    test_vmm_stop(vmm);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e2e/dump/bad-uri", test_bad_uri);
    g_test_add_func("/e2e/dump/unreachable", test_unreachable);
    g_test_add_func("/e2e/dump/bad-password", test_bad_password);
    g_test_add_func("/e2e/dump/no-sideband", test_no_sideband);
    g_test_add_func("/e2e/dump/frames", test_dump_frames);
    return g_test_run();
}
