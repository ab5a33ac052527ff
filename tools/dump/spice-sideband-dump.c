/* spice-sideband-dump: connects to a SPICE server, takes frames from the
 * sideband and prints per scanout the path, frame count, rate and latency;
 * for the remote path also the codec, the decoder, the bitrate, the client
 * CPU time per frame and, when the source draws common/pattern.h reference
 * bars under its stamp (the demo does), their PSNR.
 *
 * Latency is t_submit (server) -> t_received (local path) or t_decoded
 * (video).  Both are CLOCK_MONOTONIC: meaningful only when server and
 * client run on the same host; the output says "same-host".
 *
 * Exit status: 0 done, 1 bad usage, 2 bad URI, 3 server unreachable,
 * 4 password refused, 5 no sideband on the server, 6 sideband failed,
 * 7 timed out before the sideband was ready.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <spice-sideband/client.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "pattern.h"
#include "png.h"
#include "uri.h"

enum {
    EXIT_USAGE = 1,
    EXIT_BAD_URI = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_AUTH = 4,
    EXIT_NO_SIDEBAND = 5,
    EXIT_SIDEBAND = 6,
    EXIT_TIMEOUT = 7,
};

#define MAX_SCANOUTS 64

typedef struct {
    gboolean seen;
    guint frames;
    gint64 first_us, last_us;
    GArray *latencies;            /* gint64 us: submit -> received / decoded */
    GArray *encode_us;            /* video: submit -> encoded (server clock) */
    GArray *decode_us;            /* video: received -> decoded (client clock) */
    SsbFrame *last;               /* owned, with --png */
    const char *path;
    const char *codec;            /* static, video frames */
    double psnr_sum, psnr_min;    /* reference bars, video frames */
    guint psnr_count;
} ScanoutStats;

typedef struct {
    /* options */
    char *password;
    int frames;
    int timeout_s;
    char *png_dir;
    gboolean json;
    gboolean force_remote;
    char *codec;
    gboolean with_display;
    /* state */
    const char *uri;
    GMainLoop *loop;
    SsbClient *client;
    SsbClientPath path;
    gboolean ready;
    int exit_code;
    char *error_message;
    ScanoutStats scanouts[MAX_SCANOUTS];
    gint64 cpu_start_us;          /* process CPU time at the first frame */
    gint64 cpu_end_us;
    guint frames_total;
} Dump;

static gint64
cpu_time_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (gint64)ru.ru_utime.tv_sec * G_USEC_PER_SEC + ru.ru_utime.tv_usec +
           (gint64)ru.ru_stime.tv_sec * G_USEC_PER_SEC + ru.ru_stime.tv_usec;
}

/* PSNR of the reference bars under a stamp near the top-left corner; NAN
 * when the frame has no stamp there (not the pattern, or scaled). */
static double
reference_psnr(SsbFrame *frame)
{
    guint stride = 0, width = ssb_frame_get_width(frame), height = ssb_frame_get_height(frame);
    const guint8 *data = ssb_frame_get_data(frame, &stride);
    guint32 x, y;

    if (data == NULL || width < SSB_PATTERN_HEADER_WIDTH + SSB_PATTERN_CELL ||
        height < SSB_PATTERN_HEADER_HEIGHT + SSB_PATTERN_CELL)
        return NAN;
    /* Only the corner: a full search of a 1080p frame costs milliseconds. */
    if (!ssb_pattern_find_stamp(data, stride, SSB_PATTERN_STAMP_WIDTH + SSB_PATTERN_CELL,
                                SSB_PATTERN_STAMP_HEIGHT + SSB_PATTERN_CELL, NULL, &x, &y) ||
        x + SSB_PATTERN_REF_WIDTH > width || y + SSB_PATTERN_HEADER_HEIGHT > height)
        return NAN;
    return ssb_pattern_reference_psnr(data, stride, x, y + SSB_PATTERN_STAMP_HEIGHT);
}

static void
dump_finish(Dump *dump, int exit_code, const char *message)
{
    if (dump->exit_code == 0 && exit_code != 0) {
        dump->exit_code = exit_code;
        dump->error_message = g_strdup(message);
    }
    g_main_loop_quit(dump->loop);
}

static gboolean
all_scanouts_done(Dump *dump)
{
    g_autoptr(GArray) ids = ssb_client_list_scanouts(dump->client);

    if (dump->frames <= 0 || ids->len == 0)
        return FALSE;
    for (guint i = 0; i < ids->len; i++) {
        if (dump->scanouts[g_array_index(ids, guint, i)].frames < (guint)dump->frames)
            return FALSE;
    }
    return TRUE;
}

static void
on_frame(SsbClient *client, SsbFrame *frame, Dump *dump)
{
    guint id = ssb_frame_get_scanout_id(frame);
    ScanoutStats *s = &dump->scanouts[id % MAX_SCANOUTS];
    gint64 received = ssb_frame_get_t_received_us(frame);
    /* Same clock only on the same host: local path always, video when the
     * server runs here too (reported as "same-host"). */
    gint64 latency = ssb_frame_get_t_decoded_us(frame) - ssb_frame_get_t_submit_us(frame);

    s->seen = TRUE;
    if (dump->frames_total++ == 0)
        dump->cpu_start_us = cpu_time_us();
    dump->cpu_end_us = cpu_time_us();
    if (s->frames++ == 0)
        s->first_us = received;
    s->last_us = received;
    s->path = ssb_client_get_path_name(client, id);
    g_array_append_val(s->latencies, latency);
    if (ssb_frame_get_backing(frame) == SSB_FRAME_BACKING_VIDEO) {
        double psnr = reference_psnr(frame);

        gint64 encode = ssb_frame_get_t_encoded_us(frame) - ssb_frame_get_t_submit_us(frame);
        gint64 decode = ssb_frame_get_t_decoded_us(frame) - received;

        g_array_append_val(s->encode_us, encode);
        g_array_append_val(s->decode_us, decode);
        s->codec = ssb_frame_get_codec(frame);
        if (!isnan(psnr)) {
            psnr = MIN(psnr, 99.0); /* identical: INFINITY */
            s->psnr_min = s->psnr_count == 0 ? psnr : MIN(s->psnr_min, psnr);
            s->psnr_sum += psnr;
            s->psnr_count++;
        }
    }
    if (dump->png_dir != NULL) {
        g_clear_pointer(&s->last, ssb_frame_unref);
        s->last = ssb_frame_ref(frame);
    }
    if (all_scanouts_done(dump))
        g_main_loop_quit(dump->loop);
}

static void
on_ready(SsbClient *client, SsbClientPath path, Dump *dump)
{
    dump->ready = TRUE;
    dump->path = path;
}

static void
on_error(SsbClient *client, GError *error, Dump *dump)
{
    int code = EXIT_SIDEBAND;

    if (error->domain == SSB_CLIENT_ERROR) {
        switch (error->code) {
        case SSB_CLIENT_ERROR_CONNECT:
            code = EXIT_UNREACHABLE;
            break;
        case SSB_CLIENT_ERROR_AUTH:
            code = EXIT_AUTH;
            break;
        case SSB_CLIENT_ERROR_NO_SIDEBAND:
            code = EXIT_NO_SIDEBAND;
            break;
        default:
            break;
        }
    }
    dump_finish(dump, code, error->message);
}

static void
on_closed(SsbClient *client, Dump *dump)
{
    g_main_loop_quit(dump->loop);
}

static gboolean
on_timeout(gpointer user_data)
{
    Dump *dump = user_data;

    if (!dump->ready)
        dump_finish(dump, EXIT_TIMEOUT, "timed out before the sideband was ready");
    else
        g_main_loop_quit(dump->loop);
    return G_SOURCE_REMOVE;
}

static gint
compare_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* Percentile @p (0..100) of @values in ms; sorts in place; -1 if empty. */
static double
percentile_ms(GArray *values, double p)
{
    guint index;

    if (values->len == 0)
        return -1.0;
    g_array_sort(values, compare_gint64);
    index = (guint)((p / 100.0) * (values->len - 1) + 0.5);
    return (double)g_array_index(values, gint64, index) / 1000.0;
}

static double
stats_fps(const ScanoutStats *s)
{
    if (s->frames < 2 || s->last_us <= s->first_us)
        return 0.0;
    return (double)(s->frames - 1) * 1e6 / (double)(s->last_us - s->first_us);
}

/* Encoded kbit/s received between the first and the last delivered video
 * frame (every received frame counts, shown or not). */
static double
stats_kbps(Dump *dump, guint id)
{
    const ScanoutStats *s = &dump->scanouts[id];
    SsbVideoStats stats;

    if (s->frames < 2 || s->last_us <= s->first_us || s->codec == NULL ||
        !ssb_client_get_video_stats(dump->client, id, &stats))
        return 0.0;
    return (double)stats.bytes_received * 8.0 * 1000.0 / (double)(s->last_us - s->first_us);
}

static double
cpu_ms_per_frame(const Dump *dump)
{
    if (dump->frames_total < 2)
        return 0.0;
    return (double)(dump->cpu_end_us - dump->cpu_start_us) / 1000.0 / (dump->frames_total - 1);
}

static const char *
path_label(const Dump *dump)
{
    if (!dump->ready)
        return "not ready";
    switch (dump->path) {
    case SSB_CLIENT_PATH_LOCAL:
        return "local";
    case SSB_CLIENT_PATH_VIDEO:
        return "video";
    default:
        return "control only";
    }
}

static void
save_pngs(Dump *dump)
{
    for (guint id = 0; id < MAX_SCANOUTS; id++) {
        ScanoutStats *s = &dump->scanouts[id];
        g_autofree char *name = g_strdup_printf("scanout-%u.png", id);
        g_autofree char *path = g_build_filename(dump->png_dir, name, NULL);
        g_autoptr(GError) error = NULL;

        if (s->last == NULL)
            continue;
        if (!ssb_dump_save_png(s->last, path, &error))
            g_printerr("spice-sideband-dump: %s: %s\n", path, error->message);
    }
}

static void
print_text(Dump *dump)
{
    g_autoptr(GArray) ids = ssb_client_list_scanouts(dump->client);

    g_print("sideband: %s\n", path_label(dump));
    for (guint i = 0; i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);
        ScanoutStats *s = &dump->scanouts[id];
        SsbScanoutInfo info;

        ssb_client_get_scanout(dump->client, id, &info);
        g_print("scanout %u: %ux%u display %u path %s frames %u fps %.1f", id, info.width,
                info.height, info.display_channel_id, ssb_client_get_path_name(dump->client, id),
                s->frames, stats_fps(s));
        if (s->codec != NULL)
        {
            const char *decoder = ssb_client_get_decoder_name(dump->client, id);

            g_print(" codec %s decoder %s bitrate %.0f kbit/s", s->codec,
                    decoder != NULL ? decoder : "none", stats_kbps(dump, id));
        }
        if (s->latencies->len > 0)
            g_print(" latency (same-host, submit->%s) p50 %.3f ms p99 %.3f ms",
                    s->codec != NULL ? "decoded" : "received", percentile_ms(s->latencies, 50),
                    percentile_ms(s->latencies, 99));
        if (s->psnr_count > 0)
            g_print(" psnr(ref bars) mean %.1f dB min %.1f dB", s->psnr_sum / s->psnr_count,
                    s->psnr_min);
        g_print("\n");
    }
}

static void
print_json(Dump *dump)
{
    g_autoptr(GArray) ids = ssb_client_list_scanouts(dump->client);
    g_autofree char *uri = g_strescape(dump->uri, NULL);
    g_autofree char *error = dump->error_message ? g_strescape(dump->error_message, NULL) : NULL;

    g_print("{\"uri\": \"%s\", \"ready\": %s, \"path\": \"%s\", \"exit_code\": %d, "
            "\"cpu_ms_per_frame\": %.3f, \"latency_clock\": \"same-host\", ", uri,
            dump->ready ? "true" : "false",
            dump->path == SSB_CLIENT_PATH_LOCAL   ? "local"
            : dump->path == SSB_CLIENT_PATH_VIDEO ? "video"
                                                  : "none",
            dump->exit_code, cpu_ms_per_frame(dump));
    if (error != NULL)
        g_print("\"error\": \"%s\", ", error);
    g_print("\"scanouts\": [");
    for (guint i = 0; i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);
        ScanoutStats *s = &dump->scanouts[id];
        SsbScanoutInfo info;

        ssb_client_get_scanout(dump->client, id, &info);
        g_print("%s{\"id\": %u, \"width\": %u, \"height\": %u, \"display_channel_id\": %u, "
                "\"path\": \"%s\", \"frames\": %u, \"fps\": %.2f, \"latency_p50_ms\": %.3f, "
                "\"latency_p99_ms\": %.3f", i ? ", " : "", id, info.width, info.height,
                info.display_channel_id, ssb_client_get_path_name(dump->client, id), s->frames,
                stats_fps(s), percentile_ms(s->latencies, 50), percentile_ms(s->latencies, 99));
        if (s->codec != NULL) {
            const char *decoder = ssb_client_get_decoder_name(dump->client, id);

            g_print(", \"codec\": \"%s\", \"decoder\": \"%s\", \"bitrate_kbps\": %.1f", s->codec,
                    decoder ? decoder : "none", stats_kbps(dump, id));
            g_print(", \"encode_p50_ms\": %.3f, \"decode_p50_ms\": %.3f, \"decode_p99_ms\": %.3f",
                    percentile_ms(s->encode_us, 50), percentile_ms(s->decode_us, 50),
                    percentile_ms(s->decode_us, 99));
        }
        if (s->psnr_count > 0)
            g_print(", \"psnr_ref_mean_db\": %.2f, \"psnr_ref_min_db\": %.2f",
                    s->psnr_sum / s->psnr_count, s->psnr_min);
        g_print("}");
    }
    g_print("]}\n");
}

/* The dump takes frames from the sideband only: the stock display and
 * cursor channels would make the server compress every frame a second time
 * (and this process decode it), which skews what the dump measures. */
static gboolean
disconnect_channel(gpointer channel)
{
    spice_channel_disconnect(channel, SPICE_CHANNEL_NONE);
    return G_SOURCE_REMOVE;
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, Dump *dump)
{
    if (!dump->with_display &&
        (SPICE_IS_DISPLAY_CHANNEL(channel) || SPICE_IS_CURSOR_CHANNEL(channel)))
        g_idle_add_full(G_PRIORITY_HIGH, disconnect_channel, g_object_ref(channel),
                        g_object_unref);
}

static SpiceSession *
make_session(Dump *dump, const SsbUriTarget *target)
{
    SpiceSession *session = spice_session_new();

    if (target->unix_path != NULL) {
        g_object_set(session, "unix-path", target->unix_path, NULL);
    } else {
        g_autofree char *port = g_strdup_printf("%u", target->port);
        g_object_set(session, "host", target->host, "port", port, NULL);
    }
    if (dump->password != NULL)
        g_object_set(session, "password", dump->password, NULL);
    g_object_set(session, "enable-audio", FALSE, NULL);
    g_signal_connect(session, "channel-new", G_CALLBACK(on_channel_new), dump);
    return session;
}

static int
parse_args(Dump *dump, int *argc, char ***argv)
{
    GOptionEntry entries[] = {
        { "password", 0, 0, G_OPTION_ARG_STRING, &dump->password, "SPICE password", "P" },
        { "frames", 0, 0, G_OPTION_ARG_INT, &dump->frames, "Stop after N frames per scanout",
          "N" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &dump->timeout_s, "Stop after S seconds (10)", "S" },
        { "png", 0, 0, G_OPTION_ARG_FILENAME, &dump->png_dir,
          "Save the last frame of each scanout as DIR/scanout-<id>.png", "DIR" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &dump->json, "Print one JSON object", NULL },
        { "force-remote", 0, 0, G_OPTION_ARG_NONE, &dump->force_remote,
          "Do not use the local path", NULL },
        { "with-display", 0, 0, G_OPTION_ARG_NONE, &dump->with_display,
          "Keep the stock display and cursor channels connected", NULL },
        { "codec", 0, 0, G_OPTION_ARG_STRING, &dump->codec,
          "Preferred codec of the remote path (h264, vp8, vp9, av1, h265)", "NAME" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("URI");
    g_autoptr(GError) error = NULL;

    dump->timeout_s = 10;
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_set_summary(context, "URI: spice://HOST:PORT or spice+unix:///PATH");
    if (!g_option_context_parse(context, argc, argv, &error)) {
        g_printerr("spice-sideband-dump: %s\n", error->message);
        return EXIT_USAGE;
    }
    if (*argc != 2 || dump->timeout_s <= 0 || dump->frames < 0) {
        g_printerr("spice-sideband-dump: usage: spice-sideband-dump URI [--password P] "
                   "[--frames N] [--timeout S] [--png DIR] [--json] [--force-remote] "
                   "[--codec NAME]\n");
        return EXIT_USAGE;
    }
    dump->uri = (*argv)[1];
    return 0;
}

static void
dump_clear(Dump *dump)
{
    for (guint i = 0; i < MAX_SCANOUTS; i++) {
        g_clear_pointer(&dump->scanouts[i].last, ssb_frame_unref);
        g_array_unref(dump->scanouts[i].latencies);
        g_array_unref(dump->scanouts[i].encode_us);
        g_array_unref(dump->scanouts[i].decode_us);
    }
    g_clear_object(&dump->client);
    g_main_loop_unref(dump->loop);
    g_free(dump->password);
    g_free(dump->png_dir);
    g_free(dump->codec);
    g_free(dump->error_message);
}

static void
run(Dump *dump, SpiceSession *session)
{
    dump->client = ssb_client_new(session);
    g_object_set(dump->client, "force-remote", dump->force_remote, "codec", dump->codec, NULL);
    g_signal_connect(dump->client, "ready", G_CALLBACK(on_ready), dump);
    g_signal_connect(dump->client, "frame", G_CALLBACK(on_frame), dump);
    g_signal_connect(dump->client, "error", G_CALLBACK(on_error), dump);
    g_signal_connect(dump->client, "closed", G_CALLBACK(on_closed), dump);
    g_timeout_add_seconds((guint)dump->timeout_s, on_timeout, dump);
    if (!spice_session_connect(session)) {
        dump_finish(dump, EXIT_UNREACHABLE, "cannot start the SPICE connection");
        return;
    }
    g_main_loop_run(dump->loop);
}

int
main(int argc, char **argv)
{
    Dump dump = { 0 };
    SsbUriTarget target;
    g_autoptr(GError) error = NULL;
    SpiceSession *session;
    int code;

    dump.loop = g_main_loop_new(NULL, FALSE);
    for (guint i = 0; i < MAX_SCANOUTS; i++) {
        dump.scanouts[i].latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
        dump.scanouts[i].encode_us = g_array_new(FALSE, FALSE, sizeof(gint64));
        dump.scanouts[i].decode_us = g_array_new(FALSE, FALSE, sizeof(gint64));
    }
    code = parse_args(&dump, &argc, &argv);
    if (code == 0 && !ssb_uri_parse(dump.uri, &target, &error)) {
        g_printerr("spice-sideband-dump: %s\n", error->message);
        ssb_uri_target_clear(&target);
        code = EXIT_BAD_URI;
    }
    if (code != 0) {
        dump_clear(&dump);
        return code;
    }
    session = make_session(&dump, &target);
    ssb_uri_target_clear(&target);
    run(&dump, session);
    if (dump.png_dir != NULL && dump.exit_code == 0)
        save_pngs(&dump);
    if (dump.json)
        print_json(&dump);
    else if (dump.exit_code == 0)
        print_text(&dump);
    if (dump.exit_code != 0)
        g_printerr("spice-sideband-dump: %s\n", dump.error_message);
    code = dump.exit_code;
    /* Dropping the client disconnects its port channel; then the session. */
    g_clear_object(&dump.client);
    spice_session_disconnect(session);
    g_object_unref(session);
    dump_clear(&dump);
    return code;
}
