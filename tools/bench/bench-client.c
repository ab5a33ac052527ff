/* spice-sideband-bench-client: the client half of spice-sideband-bench.
 *
 * Connects to a SPICE server that draws common/pattern.h stamps (the demo)
 * and reads every frame's stamp where an application gets the pixels:
 *
 *   --path display    the stock display channels' primary surfaces
 *                     (images or spice-gtk's decoded video streams)
 *   --path sideband   libspice-sideband-client frames (shm, DMA-BUF with
 *                     --dmabuf, video with --force-remote --codec NAME)
 *
 * Once every expected scanout has shown a stamp it waits --warmup seconds,
 * then measures a window of --seconds, then (with --idle S) waits --drain
 * seconds and measures an idle window of S seconds.  It prints one JSON
 * object a line on stdout: {"event": "window-start"|"window-end"|
 * "idle-start"|"idle-end"} as each happens (the driver samples the
 * server's CPU time then and pauses the demo after "window-end"), and last
 * {"event": "result", ...} with per window the duration, the bytes read by
 * all SPICE channels of the session (spice-gtk's "total-read-bytes"), this
 * process's CPU time, and per scanout the frames and raw latencies.
 *
 * Exit status: 0 done, 1 bad command line, 2 no frames (connection,
 * sideband or stamp failure; the reason is on stderr).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <spice-client.h>

#include "samples.h"
#include "sideband-frames.h"
#include "stock-display.h"
#include "uri.h"

#define PROG "spice-sideband-bench-client"

enum { EXIT_USAGE = 1, EXIT_NO_FRAMES = 2 };

typedef struct {
    /* options */
    char *path;
    gboolean dmabuf, force_remote;
    char *codec;
    int scanouts;
    double warmup_s, seconds, drain_s, idle_s, timeout_s;
    /* state */
    const char *uri;
    GMainLoop *loop;
    SpiceSession *session;
    GPtrArray *channels;          /* every SpiceChannel of the session, owned refs */
    BenchSamples samples;
    BenchStock *stock;
    BenchSideband *sideband;
    gint64 t0_us, bytes0, cpu0_us;
    GString *windows;             /* finished windows, JSON members */
    int exit_code;
} Bench;

static gint64
cpu_time_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (gint64)ru.ru_utime.tv_sec * G_USEC_PER_SEC + ru.ru_utime.tv_usec +
           (gint64)ru.ru_stime.tv_sec * G_USEC_PER_SEC + ru.ru_stime.tv_usec;
}

/* Bytes read by every channel of the session so far (disconnected ones
 * included: their counter stays). */
static gint64
session_bytes(Bench *bench)
{
    gint64 total = 0;

    for (guint i = 0; i < bench->channels->len; i++) {
        gulong bytes = 0;

        g_object_get(g_ptr_array_index(bench->channels, i), "total-read-bytes", &bytes, NULL);
        total += (gint64)bytes;
    }
    return total;
}

static void
emit_event(const char *event)
{
    printf("{\"event\": \"%s\", \"t_us\": %" G_GINT64_FORMAT "}\n", event, g_get_monotonic_time());
    fflush(stdout);
}

static void
window_start(Bench *bench, const char *event)
{
    bench->t0_us = g_get_monotonic_time();
    bench->bytes0 = session_bytes(bench);
    bench->cpu0_us = cpu_time_us();
    bench_samples_start(&bench->samples);
    emit_event(event);
}

static void
window_end(Bench *bench, const char *name, const char *event)
{
    gint64 t = g_get_monotonic_time(), bytes = session_bytes(bench), cpu = cpu_time_us();
    g_autofree char *json = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&json, &len);

    bench_samples_stop(&bench->samples);
    emit_event(event);
    fprintf(mem, "%s\"%s\": {\"duration_s\": %.6f, \"bytes\": %" G_GINT64_FORMAT
            ", \"client_cpu_ms\": %.3f, \"scanouts\": ", bench->windows->len ? ", " : "", name,
            (double)(t - bench->t0_us) / 1e6, bytes - bench->bytes0,
            (double)(cpu - bench->cpu0_us) / 1000.0);
    bench_samples_print_json(&bench->samples, mem);
    fputs(", \"stages_p50_ms\": ", mem);
    bench_samples_print_stages_json(&bench->samples, mem);
    fputc('}', mem);
    fclose(mem);
    g_string_append(bench->windows, json);
}

static guint
ms(double seconds)
{
    return (guint)(seconds * 1000.0 + 0.5);
}

static gboolean
on_idle_end(gpointer data)
{
    Bench *bench = data;

    window_end(bench, "idle", "idle-end");
    g_main_loop_quit(bench->loop);
    return G_SOURCE_REMOVE;
}

static gboolean
on_idle_start(gpointer data)
{
    Bench *bench = data;

    window_start(bench, "idle-start");
    g_timeout_add(ms(bench->idle_s), on_idle_end, bench);
    return G_SOURCE_REMOVE;
}

static gboolean
on_window_end(gpointer data)
{
    Bench *bench = data;

    window_end(bench, "active", "window-end");
    if (bench->idle_s > 0)
        g_timeout_add(ms(bench->drain_s), on_idle_start, bench);
    else
        g_main_loop_quit(bench->loop);
    return G_SOURCE_REMOVE;
}

static gboolean
on_window_start(gpointer data)
{
    Bench *bench = data;

    window_start(bench, "window-start");
    g_timeout_add(ms(bench->seconds), on_window_end, bench);
    return G_SOURCE_REMOVE;
}

static guint
scanouts_seen(const Bench *bench)
{
    guint n = 0;

    for (guint i = 0; i < BENCH_MAX_SCANOUTS; i++)
        n += bench->samples.newest_seq[i] >= 0;
    return n;
}

/* Polls until every expected scanout has shown a stamp, then warms up. */
static gboolean
on_wait_frames(gpointer data)
{
    Bench *bench = data;
    const char *error = bench->sideband ? bench_sideband_error(bench->sideband) : NULL;

    if (scanouts_seen(bench) >= (guint)bench->scanouts) {
        g_timeout_add(ms(bench->warmup_s), on_window_start, bench);
        return G_SOURCE_REMOVE;
    }
    if (error != NULL || g_get_monotonic_time() > bench->t0_us + (gint64)(bench->timeout_s * 1e6)) {
        g_printerr(PROG ": %s: %u of %d scanouts showed a stamp%s%s\n", bench->uri,
                   scanouts_seen(bench), bench->scanouts, error ? ": " : " before the timeout",
                   error ? error : "");
        bench->exit_code = EXIT_NO_FRAMES;
        g_main_loop_quit(bench->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
disconnect_channel(gpointer channel)
{
    spice_channel_disconnect(channel, SPICE_CHANNEL_NONE);
    return G_SOURCE_REMOVE;
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, Bench *bench)
{
    g_ptr_array_add(bench->channels, g_object_ref(channel));
    /* A sideband client takes its frames from the sideband only, as
     * spice-sideband-dump does: the display channels would make the server
     * compress every frame a second time. */
    if (bench->sideband != NULL &&
        (SPICE_IS_DISPLAY_CHANNEL(channel) || SPICE_IS_CURSOR_CHANNEL(channel)))
        g_idle_add_full(G_PRIORITY_HIGH, disconnect_channel, g_object_ref(channel),
                        g_object_unref);
}

static gboolean
make_session(Bench *bench, GError **error)
{
    SsbUriTarget target;

    if (!ssb_uri_parse(bench->uri, &target, error))
        return FALSE;
    bench->session = spice_session_new();
    if (target.unix_path != NULL) {
        g_object_set(bench->session, "unix-path", target.unix_path, NULL);
    } else {
        g_autofree char *port = g_strdup_printf("%u", target.port);

        g_object_set(bench->session, "host", target.host, "port", port, NULL);
    }
    ssb_uri_target_clear(&target);
    g_object_set(bench->session, "enable-audio", FALSE, NULL);
    g_signal_connect(bench->session, "channel-new", G_CALLBACK(on_channel_new), bench);
    return TRUE;
}

static int
usage_error(const char *message)
{
    g_printerr(PROG ": %s\nTry '" PROG " --help' for more information.\n", message);
    return EXIT_USAGE;
}

static int
check_args(Bench *bench, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("expected one URI (spice://HOST:PORT or spice+unix:///PATH)");
    bench->uri = argv[1];
    if (bench->path == NULL || (strcmp(bench->path, "display") && strcmp(bench->path, "sideband")))
        return usage_error("--path: expected display or sideband");
    if (strcmp(bench->path, "sideband") && (bench->dmabuf || bench->force_remote || bench->codec))
        return usage_error("--dmabuf, --force-remote and --codec need --path sideband");
    if (bench->scanouts < 1 || bench->scanouts > (int)BENCH_MAX_SCANOUTS)
        return usage_error("--scanouts: expected 1..64");
    if (bench->seconds <= 0 || bench->warmup_s < 0 || bench->drain_s < 0 || bench->idle_s < 0 ||
        bench->timeout_s <= 0 || bench->seconds > 3600 || bench->idle_s > 3600)
        return usage_error("--seconds, --timeout: expected > 0; --warmup, --drain, --idle: >= 0");
    return 0;
}

static int
parse_args(Bench *bench, int argc, char **argv)
{
    GOptionEntry entries[] = {
        { "path", 0, 0, G_OPTION_ARG_STRING, &bench->path, "display or sideband", "PATH" },
        { "dmabuf", 0, 0, G_OPTION_ARG_NONE, &bench->dmabuf,
          "Declare linear XRGB8888 DMA-BUFs importable", NULL },
        { "force-remote", 0, 0, G_OPTION_ARG_NONE, &bench->force_remote,
          "Sideband: never the local path", NULL },
        { "codec", 0, 0, G_OPTION_ARG_STRING, &bench->codec, "Sideband video codec", "NAME" },
        { "scanouts", 0, 0, G_OPTION_ARG_INT, &bench->scanouts,
          "Scanouts to wait for (1)", "N" },
        { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &bench->warmup_s, "Seconds before measuring (2)",
          "S" },
        { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &bench->seconds, "Measured seconds (5)", "S" },
        { "drain", 0, 0, G_OPTION_ARG_DOUBLE, &bench->drain_s,
          "Seconds between the window and the idle window (1.5)", "S" },
        { "idle", 0, 0, G_OPTION_ARG_DOUBLE, &bench->idle_s, "Idle window seconds (0: none)",
          "S" },
        { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &bench->timeout_s,
          "Give up when no stamp came within S seconds (20)", "S" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("URI");
    g_autoptr(GError) error = NULL;

    bench->scanouts = 1;
    bench->warmup_s = 2;
    bench->seconds = 5;
    bench->drain_s = 1.5;
    bench->timeout_s = 20;
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_set_summary(context, "Reads stamped frames from the stock display "
                                          "channels or the sideband and times them.");
    if (!g_option_context_parse(context, &argc, &argv, &error))
        return usage_error(error->message);
    return check_args(bench, argc, argv);
}

static void
print_result(Bench *bench)
{
    const char *path = bench->sideband ? bench_sideband_path_name(bench->sideband) : "display";

    printf("{\"event\": \"result\", \"uri\": \"%s\", \"client_path\": \"%s\", "
           "\"latency_clock\": \"same-host CLOCK_MONOTONIC, stamp t_us -> pixels available\", "
           "\"bytes_counted\": \"spice-gtk total-read-bytes of every channel\", "
           "\"windows\": {%s}}\n",
           bench->uri, path ? path : "none", bench->windows->str);
    fflush(stdout);
}

static void
bench_clear(Bench *bench)
{
    bench_sideband_free(bench->sideband);
    bench_stock_free(bench->stock);
    if (bench->session != NULL) {
        spice_session_disconnect(bench->session);
        g_object_unref(bench->session);
    }
    g_ptr_array_unref(bench->channels);
    bench_samples_finish(&bench->samples);
    g_string_free(bench->windows, TRUE);
    g_main_loop_unref(bench->loop);
    g_free(bench->path);
    g_free(bench->codec);
}

static void
start(Bench *bench)
{
    if (!strcmp(bench->path, "display")) {
        bench->stock = bench_stock_new(bench->session, &bench->samples);
    } else {
        BenchSidebandOptions options = {
            .dmabuf = bench->dmabuf,
            .force_remote = bench->force_remote,
            .codec = bench->codec,
        };

        bench->sideband = bench_sideband_new(bench->session, &options, &bench->samples);
    }
    bench->t0_us = g_get_monotonic_time();
    g_timeout_add(50, on_wait_frames, bench);
}

int
main(int argc, char **argv)
{
    Bench bench = { 0 };
    g_autoptr(GError) error = NULL;
    int code;

    bench.loop = g_main_loop_new(NULL, FALSE);
    bench.channels = g_ptr_array_new_with_free_func(g_object_unref);
    bench.windows = g_string_new(NULL);
    bench_samples_init(&bench.samples);
    code = parse_args(&bench, argc, argv);
    if (code == 0 && !make_session(&bench, &error))
        code = usage_error(error->message);
    if (code == 0) {
        start(&bench);
        if (!spice_session_connect(bench.session)) {
            g_printerr(PROG ": cannot start the SPICE connection to %s\n", bench.uri);
            bench.exit_code = EXIT_NO_FRAMES;
        } else {
            g_main_loop_run(bench.loop);
        }
        if (bench.exit_code == 0)
            print_result(&bench);
        code = bench.exit_code;
    }
    bench_clear(&bench);
    return code;
}
