/* spice-sideband-dump: connects to a SPICE server, takes frames from the
 * sideband and prints per scanout the path, frame count, rate and latency.
 *
 * Exit status: 0 done, 1 bad usage, 2 bad URI, 3 server unreachable,
 * 4 password refused, 5 no sideband on the server, 6 sideband failed,
 * 7 timed out before the sideband was ready.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <spice-sideband/client.h>

#include <stdio.h>
#include <stdlib.h>

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
    GArray *latencies;            /* gint64 us, local frames only */
    SsbFrame *last;               /* owned, with --png */
    const char *path;
} ScanoutStats;

typedef struct {
    /* options */
    char *password;
    int frames;
    int timeout_s;
    char *png_dir;
    gboolean json;
    gboolean force_remote;
    /* state */
    const char *uri;
    GMainLoop *loop;
    SsbClient *client;
    SsbClientPath path;
    gboolean ready;
    int exit_code;
    char *error_message;
    ScanoutStats scanouts[MAX_SCANOUTS];
} Dump;

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

    s->seen = TRUE;
    if (s->frames++ == 0)
        s->first_us = received;
    s->last_us = received;
    s->path = ssb_client_get_path_name(client, id);
    /* Server and client clocks are the same only on the local path. */
    if (ssb_frame_get_backing(frame) != SSB_FRAME_BACKING_VIDEO) {
        gint64 latency = received - ssb_frame_get_t_submit_us(frame);
        g_array_append_val(s->latencies, latency);
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

    g_print("sideband: %s\n", dump->ready ? (dump->path == SSB_CLIENT_PATH_LOCAL ? "local"
                                                                                   : "control only")
                                          : "not ready");
    for (guint i = 0; i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);
        ScanoutStats *s = &dump->scanouts[id];
        SsbScanoutInfo info;

        ssb_client_get_scanout(dump->client, id, &info);
        g_print("scanout %u: %ux%u display %u path %s frames %u fps %.1f", id, info.width,
                info.height, info.display_channel_id, ssb_client_get_path_name(dump->client, id),
                s->frames, stats_fps(s));
        if (s->latencies->len > 0)
            g_print(" latency p50 %.3f ms p99 %.3f ms", percentile_ms(s->latencies, 50),
                    percentile_ms(s->latencies, 99));
        g_print("\n");
    }
}

static void
print_json(Dump *dump)
{
    g_autoptr(GArray) ids = ssb_client_list_scanouts(dump->client);
    g_autofree char *uri = g_strescape(dump->uri, NULL);
    g_autofree char *error = dump->error_message ? g_strescape(dump->error_message, NULL) : NULL;

    g_print("{\"uri\": \"%s\", \"ready\": %s, \"path\": \"%s\", \"exit_code\": %d, ", uri,
            dump->ready ? "true" : "false",
            dump->path == SSB_CLIENT_PATH_LOCAL ? "local" : "none", dump->exit_code);
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
                "\"latency_p99_ms\": %.3f}", i ? ", " : "", id, info.width, info.height,
                info.display_channel_id, ssb_client_get_path_name(dump->client, id), s->frames,
                stats_fps(s), percentile_ms(s->latencies, 50), percentile_ms(s->latencies, 99));
    }
    g_print("]}\n");
}

static SpiceSession *
make_session(Dump *dump, const SsbDumpTarget *target)
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
                   "[--frames N] [--timeout S] [--png DIR] [--json] [--force-remote]\n");
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
    }
    g_clear_object(&dump->client);
    g_main_loop_unref(dump->loop);
    g_free(dump->password);
    g_free(dump->png_dir);
    g_free(dump->error_message);
}

static void
run(Dump *dump, SpiceSession *session)
{
    dump->client = ssb_client_new(session);
    g_object_set(dump->client, "force-remote", dump->force_remote, NULL);
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
    SsbDumpTarget target;
    g_autoptr(GError) error = NULL;
    SpiceSession *session;
    int code;

    dump.loop = g_main_loop_new(NULL, FALSE);
    for (guint i = 0; i < MAX_SCANOUTS; i++)
        dump.scanouts[i].latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
    code = parse_args(&dump, &argc, &argv);
    if (code == 0 && !ssb_dump_parse_uri(dump.uri, &target, &error)) {
        g_printerr("spice-sideband-dump: %s\n", error->message);
        ssb_dump_target_clear(&target);
        code = EXIT_BAD_URI;
    }
    if (code != 0) {
        dump_clear(&dump);
        return code;
    }
    session = make_session(&dump, &target);
    ssb_dump_target_clear(&target);
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
