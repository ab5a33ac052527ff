/* Host id (common/host-id.c, spec 4.4): stable, 32 bytes, the documented
 * function of machine-id and boot_id.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "host-id.h"

static void
test_stable(void)
{
    uint8_t a[SSB_PROTO_HOST_ID_SIZE], b[SSB_PROTO_HOST_ID_SIZE];
    uint8_t zero[SSB_PROTO_HOST_ID_SIZE] = { 0 };

    g_assert_cmpint(SSB_PROTO_HOST_ID_SIZE, ==, 32);
    g_assert_cmpint(ssb_host_id_get(a), ==, 0);
    g_assert_cmpint(ssb_host_id_get(b), ==, 0);
    g_assert_cmpmem(a, sizeof(a), b, sizeof(b));
    g_assert_true(memcmp(a, zero, sizeof(a)) != 0);
}

static void
test_definition(void)
{
    g_autofree char *dir = g_dir_make_tmp("ssb-host-id-XXXXXX", NULL);
    g_autofree char *mid = g_build_filename(dir, "machine-id", NULL);
    g_autofree char *bid = g_build_filename(dir, "boot_id", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    uint8_t want[32], got[32], other[32];
    gsize len = sizeof(want);

    g_assert_true(g_file_set_contents(mid, "0123456789abcdef0123456789abcdef\n", -1, NULL));
    g_assert_true(g_file_set_contents(bid, "8d2c3a1e-0000-4000-8000-000000000001 \n", -1, NULL));
    g_checksum_update(sum, (const guchar *)"0123456789abcdef0123456789abcdef"
                                           "8d2c3a1e-0000-4000-8000-000000000001", -1);
    g_checksum_get_digest(sum, want, &len);
    g_assert_cmpint(ssb_host_id_from_files(mid, bid, got), ==, 0);
    g_assert_cmpmem(want, 32, got, 32);

    /* Both are required. */
    g_assert_cmpint(ssb_host_id_from_files(missing, bid, other), ==, -ENOENT);
    g_assert_cmpint(ssb_host_id_from_files(mid, missing, other), ==, -ENOENT);

    g_unlink(mid);
    g_unlink(bid);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/server/host-id/stable", test_stable);
    g_test_add_func("/server/host-id/definition", test_definition);
    return g_test_run();
}
