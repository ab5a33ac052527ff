/* End-to-end remote path (spec 5) over TCP: the real server library in
 * spice-sideband-demo (smooth common/pattern.c content with stamps and
 * reference bars) or in ssb-test-vmm (resize, stats), the real client
 * library on spice-client-glib in this process, "force-remote".
 *
 * Nothing here measures time: timeouts only bound hangs.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "pattern.h"

#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#define W 320
#define H 240

/* ---------------------------------------------------------------- demo */

typedef struct {
    GPid pid;
    int out_fd;
    char *dir;
    char *log_path;
    char *uri;
} Demo;

static void
demo_child_setup(gpointer user_data)
{
    Demo *demo = user_data;
    int fd = open(demo->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
}

static char *
demo_log(Demo *demo)
{
    char *log = NULL;

    if (!g_file_get_contents(demo->log_path, &log, NULL, NULL))
        log = g_strdup("");
    return log;
}

/* Starts the demo on 127.0.0.1 (a free port) with @args and waits until it
 * listens. */
static Demo *
demo_start(const char *const *args)
{
    Demo *demo = g_new0(Demo, 1);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) envp = g_get_environ();
    g_autoptr(GString) out = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + E2E_TIMEOUT_MS * 1000;
    const char *at;

    g_assert_nonnull(g_getenv("SSB_DEMO"));
    signal(SIGPIPE, SIG_IGN);
    demo->dir = g_dir_make_tmp("ssb-e2e-video-XXXXXX", &error);
    g_assert_no_error(error);
    demo->log_path = g_build_filename(demo->dir, "demo.log", NULL);
    envp = g_environ_setenv(envp, "XDG_RUNTIME_DIR", demo->dir, TRUE);
    g_ptr_array_add(argv, (char *)g_getenv("SSB_DEMO"));
    g_ptr_array_add(argv, "--listen");
    g_ptr_array_add(argv, "tcp:127.0.0.1:0");
    for (guint i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    g_spawn_async_with_pipes(NULL, (char **)argv->pdata, envp, G_SPAWN_DO_NOT_REAP_CHILD,
                             demo_child_setup, demo, &demo->pid, NULL, &demo->out_fd, NULL,
                             &error);
    g_assert_no_error(error);
    while ((at = strstr(out->str, "listening on ")) == NULL || strchr(at, '\n') == NULL) {
        struct pollfd pfd = { .fd = demo->out_fd, .events = POLLIN };
        char buf[512];
        ssize_t n;

        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = read(demo->out_fd, buf, sizeof(buf));
        if (n <= 0) {
            g_autofree char *log = demo_log(demo);
            g_error("the demo exited; its log:\n%s", log);
        }
        g_string_append_len(out, buf, n);
    }
    at += strlen("listening on ");
    demo->uri = g_strndup(at, (gsize)(strchr(at, '\n') - at));
    return demo;
}

static void
demo_stop(Demo *demo)
{
    int status = 0;

    kill(demo->pid, SIGTERM);
    waitpid(demo->pid, &status, 0);
    g_spawn_close_pid(demo->pid);
    close(demo->out_fd);
    g_unlink(demo->log_path);
    g_rmdir(demo->dir);
    g_free(demo->dir);
    g_free(demo->log_path);
    g_free(demo->uri);
    g_free(demo);
}

/* A TestClient for a URI that is not a TestVmm's. */
static TestClient *
client_for_uri(const char *uri)
{
    TestVmm fake = { .uri = (char *)uri };

    return test_client_new(&fake);
}

/* --------------------------------------------------------------- checks */

/* Rebuilds the demo's source picture for the stamp in @data (--damage 100:
 * every pixel outside the header is animation step seq; the header is the
 * stamp and the reference bars) and returns the PSNR of the whole frame. */
static double
demo_frame_psnr(const guint8 *data, guint stride, guint width, guint height, guint32 *seq)
{
    struct ssb_pattern_stamp stamp;
    struct ssb_rect all = { 0, 0, width, height };
    g_autofree guint8 *want = g_malloc((gsize)width * height * 4);
    guint32 x = 0, y = 0;

    if (!ssb_pattern_find_stamp(data, stride, SSB_PATTERN_STAMP_WIDTH + SSB_PATTERN_CELL,
                                SSB_PATTERN_STAMP_HEIGHT + SSB_PATTERN_CELL, &stamp, &x, &y))
        return 0.0;
    g_assert_cmpuint(x, ==, 0);
    g_assert_cmpuint(y, ==, 0);
    ssb_pattern_fill(want, width * 4, &all, stamp.scanout, stamp.seq);
    ssb_pattern_reference(want, width * 4, SSB_PATTERN_REF_X, SSB_PATTERN_REF_Y);
    ssb_pattern_draw_stamp(want, width * 4, 0, 0, &stamp);
    *seq = stamp.seq;
    return ssb_pattern_psnr(data, stride, want, width * 4, width, height);
}

static gboolean
ready_or_failed(gpointer data)
{
    TestClient *tc = data;
    return tc->ready || tc->closed || tc->error != NULL;
}

typedef struct {
    TestClient *tc;
    guint id;
    guint n;
} CountWait;

static gboolean
frames_reached(gpointer data)
{
    CountWait *w = data;
    return w->tc->frames[w->id] >= w->n || w->tc->error != NULL || w->tc->closed;
}

static void
wait_frames(TestClient *tc, guint id, guint n)
{
    CountWait w = { tc, id, n };

    g_assert_true(test_run_until(frames_reached, &w));
    g_assert_no_error(tc->error);
    g_assert_false(tc->closed);
}

/* Connects @tc force-remote with @codecs / @codec and waits for VIDEO. */
static void
connect_remote(TestClient *tc, const char *codec, const char *codecs)
{
    g_object_set(tc->client, "force-remote", TRUE, "codec", codec, "codecs", codecs, NULL);
    test_client_connect(tc);
    g_assert_true(test_run_until(ready_or_failed, tc));
    g_assert_no_error(tc->error);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_VIDEO);
}

static gboolean
have_factory(const char *name)
{
    g_autoptr(GstElementFactory) factory = gst_element_factory_find(name);

    return factory != NULL;
}

/* ---------------------------------------------------------------- tests */

typedef struct {
    const char *codec;
    const char *encoder;          /* element, also what must be installed */
    const char *fragment;         /* --encoder: low latency settings */
} CodecCase;

/* Decoded frames equal the source within PSNR >= 35 dB. */
static void
test_psnr(gconstpointer data)
{
    const CodecCase *c = data;
    g_autofree char *codecs = g_strdup_printf("--codecs=%s", c->codec);
    g_autofree char *encoder = g_strdup_printf("--encoder=%s", c->fragment);
    const char *args[] = { "--scanouts=1", "--size=320x240", "--fps=15", "--damage=100", codecs,
                           encoder, NULL };
    g_auto(GStrv) decodable = ssb_client_list_decodable_codecs();
    Demo *demo;
    TestClient *tc;
    guint checked = 0;
    double worst = INFINITY;

    if (!g_strv_contains((const char *const *)decodable, c->codec) || !have_factory(c->encoder)) {
        g_test_skip("encoder or decoder missing");
        return;
    }
    demo = demo_start(args);
    tc = client_for_uri(demo->uri);
    connect_remote(tc, c->codec, NULL);
    /* Past the encoder's first frames (rate control settling). */
    wait_frames(tc, 0, 4);
    for (guint round = 0; round < 8; round++) {
        SsbFrame *frame;
        guint stride = 0;
        const guint8 *pixels;
        guint32 seq = 0;
        double psnr;

        wait_frames(tc, 0, tc->frames[0] + 1);
        frame = tc->latest[0];
        g_assert_cmpint(ssb_frame_get_backing(frame), ==, SSB_FRAME_BACKING_VIDEO);
        g_assert_cmpstr(ssb_frame_get_codec(frame), ==, c->codec);
        pixels = ssb_frame_get_data(frame, &stride);
        g_assert_nonnull(pixels);
        g_assert_cmpuint(ssb_frame_get_width(frame), ==, W);
        g_assert_cmpuint(ssb_frame_get_height(frame), ==, H);
        psnr = demo_frame_psnr(pixels, stride, W, H, &seq);
        g_test_message("%s/%s seq %u: PSNR %.1f dB (bars %.1f dB), %u bytes", c->codec,
                       c->encoder, seq, psnr,
                       ssb_pattern_reference_psnr(pixels, stride, 0, SSB_PATTERN_REF_Y),
                       ssb_frame_get_encoded_size(frame));
        worst = MIN(worst, psnr);
        checked++;
    }
    g_assert_cmpuint(checked, ==, 8);
    g_assert_cmpfloat(worst, >=, 35.0);
    g_assert_cmpstr(ssb_client_get_path_name(tc->client, 0), ==, c->codec);
    g_assert_nonnull(ssb_client_get_decoder_name(tc->client, 0));
    test_client_free(tc);
    demo_stop(demo);
}

/* A client joining a running stream gets a keyframe first: it never has
 * to ask (no JOIN request) and drops nothing before its first picture. */
static void
test_late_join(void)
{
    const char *args[] = { "--scanouts=1", "--size=320x240", "--fps=15", "--damage=100",
                           "--codecs=h264,vp8", NULL };
    Demo *demo = demo_start(args);

    for (guint round = 0; round < 2; round++) {
        TestClient *tc = client_for_uri(demo->uri);
        SsbVideoStats stats;

        connect_remote(tc, NULL, NULL);
        wait_frames(tc, 0, 3);
        g_assert_true(ssb_client_get_video_stats(tc->client, 0, &stats));
        g_assert_cmpuint(stats.keyframes, >=, 1);
        g_assert_cmpuint(stats.keyframe_requests, ==, 0);
        g_assert_cmpuint(stats.decode_errors, ==, 0);
        test_client_free(tc);
        /* spice-server needs a moment before a new client (FACTS). */
        test_run_for(200);
    }
    demo_stop(demo);
}

/* The client restricted to VP8 gets VP8 from a server that prefers H.264;
 * a client whose codecs the server cannot encode gets UNSUPPORTED. */
static void
test_codec_choice(void)
{
    const char *args[] = { "--scanouts=1", "--size=320x240", "--fps=15", "--codecs=h264,vp8",
                           NULL };
    g_auto(GStrv) decodable = ssb_client_list_decodable_codecs();
    Demo *demo;
    TestClient *tc;

    if (!g_strv_contains((const char *const *)decodable, "vp8")) {
        g_test_skip("no VP8 decoder");
        return;
    }
    demo = demo_start(args);
    tc = client_for_uri(demo->uri);
    connect_remote(tc, "h264", "vp8");
    wait_frames(tc, 0, 2);
    g_assert_cmpstr(ssb_frame_get_codec(tc->latest[0]), ==, "vp8");
    test_client_free(tc);
    test_run_for(200);

    if (g_strv_contains((const char *const *)decodable, "vp9")) {
        tc = client_for_uri(demo->uri);
        g_object_set(tc->client, "force-remote", TRUE, "codecs", "vp9", NULL);
        test_client_connect(tc);
        g_assert_true(test_run_until(ready_or_failed, tc));
        /* Nothing in common: the server says UNSUPPORTED (spec 4.2). */
        if (tc->error == NULL) {
            g_assert_true(test_run_until(ready_or_failed, tc));
            test_run_for(1000);
        }
        g_assert_error(tc->error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_UNSUPPORTED);
        g_assert_cmpuint(tc->frames[0], ==, 0);
        test_client_free(tc);
    }
    demo_stop(demo);
}

/* spice-sideband-dump --force-remote --codec: codec, decoder, latency,
 * bitrate and the reference bars' PSNR; --png writes the decoded picture. */
static void
test_dump(void)
{
    const char *args[] = { "--scanouts=1", "--size=320x240", "--fps=15", "--damage=100",
                           "--codecs=h264,vp8", NULL };
    g_auto(GStrv) decodable = ssb_client_list_decodable_codecs();
    g_autofree char *out = NULL, *err = NULL, *png = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("ssb-e2e-dump-XXXXXX", NULL);
    Demo *demo;
    int status = -1;

    if (!g_strv_contains((const char *const *)decodable, "vp8")) {
        g_test_skip("no VP8 decoder");
        return;
    }
    demo = demo_start(args);
    {
        const char *argv[] = { g_getenv("SSB_DUMP"), "--force-remote", "--codec", "vp8",
                               "--frames", "10", "--timeout", "20", "--json", "--png", dir,
                               demo->uri, NULL };

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error);
    }
    g_assert_no_error(error);
    g_test_message("dump: %s%s", out, err);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(out, "\"path\": \"video\""));
    g_assert_nonnull(strstr(out, "\"codec\": \"vp8\""));
    g_assert_nonnull(strstr(out, "\"decoder\": \""));
    g_assert_nonnull(strstr(out, "\"latency_clock\": \"same-host\""));
    g_assert_nonnull(strstr(out, "\"psnr_ref_mean_db\": "));
    g_assert_cmpfloat(g_ascii_strtod(strstr(out, "\"psnr_ref_min_db\": ") +
                                         strlen("\"psnr_ref_min_db\": "), NULL), >=, 30.0);
    png = g_build_filename(dir, "scanout-0.png", NULL);
    g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
    g_unlink(png);
    g_rmdir(dir);
    demo_stop(demo);
}

/* ------------------------------------------------ with the test VMM */

/* A command's reply, skipping the "submitted"/"busy" lines that timed
 * submits (--fps) print in between. */
static char *
vmm_query(TestVmm *vmm, const char *command)
{
    char *line = test_vmm_command(vmm, "%s", command);

    while (g_str_has_prefix(line, "submitted") || g_str_has_prefix(line, "busy")) {
        g_free(line);
        line = test_vmm_read_line(vmm);
    }
    return line;
}

/* The value of @key in the VMM's stats, or -1 when it has none. */
static gint64
vmm_stat_or(TestVmm *vmm, const char *key)
{
    g_autofree char *json = vmm_query(vmm, "stats");
    g_autofree char *needle = g_strdup_printf("\"%s\":", key);
    const char *at = strstr(json, needle);

    if (at == NULL)
        return -1;
    at += strlen(needle);
    while (*at == ' ')
        at++;
    return g_ascii_strtoll(at, NULL, 10);
}

static TestVmm *
vmm_start_video(const char *const *more)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();

    g_ptr_array_add(args, "--size=320x240");
    g_ptr_array_add(args, "--no-local");
    g_ptr_array_add(args, "--pattern=smooth");
    for (guint i = 0; more != NULL && more[i] != NULL; i++)
        g_ptr_array_add(args, (char *)more[i]);
    g_ptr_array_add(args, NULL);
    return test_vmm_start(TRUE, (const char *const *)args->pdata);
}

/* A resize mid-stream: frames of the new size follow without a decode
 * error (the server's keyframe after SCANOUT_RESIZE). */
static void
test_resize(void)
{
    const char *more[] = { "--fps=15", NULL };
    TestVmm *vmm = vmm_start_video(more);
    TestClient *tc = test_client_new(vmm);
    g_autofree char *reply = NULL;
    SsbVideoStats stats;
    gint64 deadline;

    connect_remote(tc, "h264", NULL);
    wait_frames(tc, 0, 3);
    reply = vmm_query(vmm, "resize 0 480 320");
    g_assert_cmpstr(reply, ==, "ok");
    deadline = g_get_monotonic_time() + E2E_TIMEOUT_MS * 1000;
    while (ssb_frame_get_width(tc->latest[0]) != 480 && g_get_monotonic_time() < deadline)
        wait_frames(tc, 0, tc->frames[0] + 1);
    g_assert_cmpuint(ssb_frame_get_width(tc->latest[0]), ==, 480);
    g_assert_cmpuint(ssb_frame_get_height(tc->latest[0]), ==, 320);
    g_assert_cmpuint(tc->resized, >=, 1);
    g_assert_true(ssb_client_get_video_stats(tc->client, 0, &stats));
    g_assert_cmpuint(stats.decode_errors, ==, 0);
    g_assert_cmpuint(stats.keyframes, >=, 2);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

/* An idle scanout sends no frame bytes. */
static void
test_idle(void)
{
    TestVmm *vmm = vmm_start_video(NULL);
    TestClient *tc = test_client_new(vmm);
    SsbVideoStats before, after;
    gint64 server_before, server_after;

    connect_remote(tc, "h264", NULL);
    for (guint i = 0; i < 3; i++)
        test_vmm_submit(vmm, 0, NULL);
    wait_frames(tc, 0, 1);
    /* Let whatever was in flight land. */
    test_run_for(1000);
    g_assert_true(ssb_client_get_video_stats(tc->client, 0, &before));
    server_before = vmm_stat_or(vmm, "video_bytes");
    test_run_for(5000);
    g_assert_true(ssb_client_get_video_stats(tc->client, 0, &after));
    server_after = vmm_stat_or(vmm, "video_bytes");
    g_assert_cmpuint(after.bytes_received, ==, before.bytes_received);
    g_assert_cmpuint(after.frames_received, ==, before.frames_received);
    if (server_before >= 0)
        g_assert_cmpint(server_after, ==, server_before);
    /* One more submit: frames flow again. */
    test_vmm_submit(vmm, 0, NULL);
    wait_frames(tc, 0, tc->frames[0] + 1);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

typedef struct {
    TestVmm *vmm;
    const char *key;
    gint64 below;
    gint64 at_least;
} StatWait;

static gboolean
stat_condition(gpointer data)
{
    StatWait *w = data;
    gint64 v = vmm_stat_or(w->vmm, w->key);

    /* Poll the VMM at most every 200 ms. */
    test_run_for(200);
    return w->below > 0 ? v >= 0 && v < w->below : v >= w->at_least;
}

/* A slow client (each decode takes 150 ms) drives the server's frame rate
 * and bitrate down; they come back once the client keeps up again. */
static void
test_slow_client(void)
{
    const char *more[] = { "--fps=30", NULL };
    TestVmm *vmm = vmm_start_video(more);
    TestClient *tc = test_client_new(vmm);
    gint64 fps0, kbps0;
    StatWait w = { vmm, NULL, 0, 0 };

    connect_remote(tc, "h264", NULL);
    wait_frames(tc, 0, 10);
    fps0 = vmm_stat_or(vmm, "video_max_fps");
    kbps0 = vmm_stat_or(vmm, "video_bitrate_kbps");
    if (fps0 < 0 || kbps0 < 0) {
        g_test_skip("the VMM reports no video rate stats");
        test_client_free(tc);
        test_vmm_stop(vmm);
        return;
    }
    g_test_message("keeping up: fps cap %" G_GINT64_FORMAT ", bitrate %" G_GINT64_FORMAT " kbit/s",
                   fps0, kbps0);
    g_object_set(tc->client, "decode-delay-ms", 150u, NULL);
    w.key = "video_bitrate_kbps";
    w.below = kbps0;
    g_assert_true(test_run_until(stat_condition, &w));
    w.key = "video_max_fps";
    w.below = fps0;
    g_assert_true(test_run_until(stat_condition, &w));
    g_test_message("slow: fps cap %" G_GINT64_FORMAT ", bitrate %" G_GINT64_FORMAT " kbit/s",
                   vmm_stat_or(vmm, "video_max_fps"), vmm_stat_or(vmm, "video_bitrate_kbps"));
    g_object_set(tc->client, "decode-delay-ms", 0u, NULL);
    w.below = 0;
    w.key = "video_max_fps";
    w.at_least = fps0;
    g_assert_true(test_run_until(stat_condition, &w));
    g_test_message("recovered: fps cap %" G_GINT64_FORMAT ", bitrate %" G_GINT64_FORMAT
                   " kbit/s", vmm_stat_or(vmm, "video_max_fps"),
                   vmm_stat_or(vmm, "video_bitrate_kbps"));
    g_assert_no_error(tc->error);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

/* SSB_ENCODER names a missing element: the server falls back to the next
 * encoder and says so in its log; video still flows. */
static void
test_bogus_encoder(void)
{
    const char *more[] = { "--fps=15", NULL };
    TestVmm *vmm;
    TestClient *tc;
    g_autofree char *log = NULL;

    g_setenv("SSB_ENCODER", "bogus", TRUE);
    vmm = vmm_start_video(more);
    g_unsetenv("SSB_ENCODER");
    tc = test_client_new(vmm);
    connect_remote(tc, "h264", NULL);
    wait_frames(tc, 0, 3);
    log = test_vmm_log(vmm);
    g_test_message("VMM log:\n%s", log);
    g_assert_nonnull(strstr(log, "bogus"));
    test_client_free(tc);
    test_vmm_stop(vmm);
}

static const CodecCase cases[] = {
    { "h264", "x264enc", "x264enc speed-preset=ultrafast tune=zerolatency bframes=0 threads=1" },
    { "vp8", "vp8enc", "vp8enc deadline=1 cpu-used=16 lag-in-frames=0 threads=1" },
    { "vp9", "vp9enc", "vp9enc deadline=1 cpu-used=8 lag-in-frames=0 threads=1" },
    { "h264", "openh264enc", "openh264enc complexity=low bitrate=1500000" },
};

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gst_init(&argc, &argv);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strdup_printf("/e2e/video/psnr/%s", cases[i].encoder);
        g_test_add_data_func(name, &cases[i], test_psnr);
    }
    g_test_add_func("/e2e/video/late-join", test_late_join);
    g_test_add_func("/e2e/video/dump", test_dump);
    g_test_add_func("/e2e/video/codec-choice", test_codec_choice);
    g_test_add_func("/e2e/video/resize", test_resize);
    g_test_add_func("/e2e/video/idle", test_idle);
    g_test_add_func("/e2e/video/slow-client", test_slow_client);
    g_test_add_func("/e2e/video/bogus-encoder", test_bogus_encoder);
    return g_test_run();
}
