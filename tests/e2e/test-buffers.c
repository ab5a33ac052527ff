/* Buffer kinds: CPU pixels, a shareable memfd (zero copy) and the DMA-BUF
 * stand-in, which arrives as DMA-BUF fds when the client declared it can
 * import that format/modifier pair and as exact SHM pixels when it cannot.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <fcntl.h>

#define XR24 0x34325258u
#define MODIFIER_LINEAR 0ull

/* Waits until the VMM has every buffer back but the one the client shows,
 * so the next submit finds the zero-copy path free (the release of the
 * previous frame travels while this one is being delivered). */
static void
settle(TestVmm *vmm)
{
    for (int i = 0; i < 2000 && test_vmm_stat(vmm, "vmm_in_flight") > 1; i++)
        test_run_for(5);
}

/* Submits a few whole and damage-only frames; each arrives exact. */
static void
exercise(TestVmm *vmm, TestClient *tc, SsbFrameBacking want_backing)
{
    static const SsbRect rects[] = { { 0, 0, 160, 120 }, { 7, 9, 33, 17 }, { 159, 119, 1, 1 } };
    TestCanvas canvas = { 0 };

    test_canvas_init(&canvas, 0, 160, 120);
    for (guint i = 0; i <= G_N_ELEMENTS(rects); i++) {
        const SsbRect *rect = i == 0 ? NULL : &rects[i - 1];
        guint64 seq = test_vmm_submit(vmm, 0, rect);
        SsbFrame *frame;

        g_assert_cmpuint(seq, >, 0);
        test_canvas_apply(&canvas, seq, rect);
        frame = test_client_wait_seq(tc, 0, seq);
        g_assert_cmpint(ssb_frame_get_backing(frame), ==, want_backing);
        g_assert_cmpuint(ssb_frame_get_fourcc(frame), ==, XR24);
        g_assert_cmpuint(test_canvas_diff_frame(&canvas, frame), ==, 0);
        settle(vmm);
    }
    test_canvas_clear(&canvas);
}

static void
run_kind(const char *kind, gboolean import, SsbFrameBacking want_backing, const char *want_path)
{
    const char *args[] = { "--size", "160x120", "--buffer", kind, NULL };
    TestVmm *vmm = test_vmm_start(FALSE, args);
    TestClient *tc = test_client_new(vmm);

    if (import) {
        SsbFormatModifier format = { XR24, MODIFIER_LINEAR };
        ssb_client_set_dmabuf_formats(tc->client, &format, 1);
    }
    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_LOCAL);
    exercise(vmm, tc, want_backing);
    g_assert_cmpstr(ssb_client_get_path_name(tc->client, 0), ==, want_path);
    if (want_backing == SSB_FRAME_BACKING_DMABUF) {
        SsbDmabufInfo info;

        g_assert_true(ssb_frame_get_dmabuf(tc->latest[0], &info));
        g_assert_cmpuint(info.n_planes, ==, 1);
        g_assert_cmpuint(info.modifier, ==, MODIFIER_LINEAR);
        g_assert_cmpuint(info.strides[0], >=, 160 * 4);
        g_assert_cmpint(fcntl(info.fds[0], F_GETFD), >=, 0);
        g_assert_null(ssb_frame_get_data(tc->latest[0], NULL));
    }
    /* memfd and forwarded DMA-BUFs travel without a pixel copy. */
    if (g_str_equal(kind, "memfd") || want_backing == SSB_FRAME_BACKING_DMABUF)
        g_assert_cmpint(test_vmm_stat(vmm, "bytes_copied"), ==, 0);
    else
        g_assert_cmpint(test_vmm_stat(vmm, "bytes_copied"), >, 0);
    g_assert_no_error(tc->error);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

static void
test_pixels(void)
{
    run_kind("pixels", FALSE, SSB_FRAME_BACKING_SHM, "shm");
}

static void
test_memfd(void)
{
    run_kind("memfd", FALSE, SSB_FRAME_BACKING_SHM, "shm");
}

static void
test_dmabuf_import(void)
{
    run_kind("dmabuf", TRUE, SSB_FRAME_BACKING_DMABUF, "dmabuf");
}

static void
test_dmabuf_fallback(void)
{
    run_kind("dmabuf", FALSE, SSB_FRAME_BACKING_SHM, "shm");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e2e/buffers/pixels", test_pixels);
    g_test_add_func("/e2e/buffers/memfd", test_memfd);
    g_test_add_func("/e2e/buffers/dmabuf-import", test_dmabuf_import);
    g_test_add_func("/e2e/buffers/dmabuf-fallback", test_dmabuf_fallback);
    return g_test_run();
}
