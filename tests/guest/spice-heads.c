/* spice-heads: watches the test guest's heads on SPICE's own display
 * channels (spice-client-glib) and checks that each shows guest-draw's
 * pattern, with its own scanout index, and moves.
 *
 * Usage: spice-heads --unix PATH [--heads N] [--frames K] [--timeout S]
 *                    [--min-psnr DB] [--serial FILE]
 *
 * Connects to the SPICE server on unix socket PATH (retrying until it
 * exists), then decodes the stamp of common/pattern.h at the top-left
 * corner of display channel h's primary surface on every update there.  Passes when
 * each of the N heads (default 2) has shown K (default 30) distinct,
 * increasing frame numbers with scanout == h and, on its first stamp,
 * reference bars of at least DB dB PSNR (default 30; inf when lossless);
 * fails at once on a stamp with another scanout or a frame number going
 * back, and after S seconds (default 60) without success.
 *
 * --serial FILE reads the guest's console (a FIFO that QEMU's -serial
 * file:FILE writes) and prints its "ssb-guest:" lines; each "ssb-frame HEAD
 * SEQ" line is timestamped on arrival, so a frame's latency is the time
 * from its console line to its pixels arriving here, both on this host's
 * clock.
 *
 * Prints, per head:
 *   head H scanout=S seq=FIRST..LAST updates=U first_ms=T client_fps=F
 *        [latency_ms median=M max=X n=N]
 * where first_ms is the time from this program's start to the head's first
 * stamp (boot to picture when started with QEMU), client_fps the distinct
 * frames per second it saw.  Exit status: 0 pass, 1 fail, 2 bad arguments.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <spice-client.h>

#include "pattern.h"

#define MAX_HEADS 16
#define SEQ_RING 1024u          /* console timestamps kept per head */
#define MAX_LATENCIES 4096u

struct head {
    gboolean seen;
    guint32 first_seq, last_seq, distinct;
    guint updates;
    gint64 first_us, last_us;
    gint64 console_us[SEQ_RING];        /* by seq % SEQ_RING, 0: none */
    guint32 console_seq[SEQ_RING];
    double latencies[MAX_LATENCIES];
    guint n_latencies;
};

struct watch {
    const char *unix_path;
    guint n_heads, want_frames;
    gint64 t0;
    struct head heads[MAX_HEADS];
    GMainLoop *loop;
    SpiceSession *session;
    int status;             /* -1 while running */
    GString *console_line;
    guint console_watch;
    guint console_frames;
    guint32 min_ref_psnr;
};

static void
finish(struct watch *w, int status)
{
    if (w->status < 0) {
        w->status = status;
        g_main_loop_quit(w->loop);
    }
}

static gboolean
all_done(const struct watch *w)
{
    for (guint h = 0; h < w->n_heads; h++) {
        if (w->heads[h].distinct < w->want_frames)
            return FALSE;
    }
    return TRUE;
}

/* ---- display channels ------------------------------------------------------ */

static void
check_stamp(struct watch *w, guint h, const struct ssb_pattern_stamp *s, double ref_psnr)
{
    struct head *head = &w->heads[h];
    gint64 now = g_get_monotonic_time();

    head->updates++;
    if (s->scanout != h) {
        g_printerr("spice-heads: head %u shows the stamp of scanout %u (seq %u)\n", h,
                   s->scanout, s->seq);
        finish(w, 1);
        return;
    }
    if (head->seen && s->seq < head->last_seq) {
        g_printerr("spice-heads: head %u went back from seq %u to %u\n", h, head->last_seq,
                   s->seq);
        finish(w, 1);
        return;
    }
    if (!head->seen) {
        /* Not only the stamp's bits: the guest's pixels themselves. */
        if (ref_psnr < w->min_ref_psnr) {
            g_printerr("spice-heads: head %u: reference bars at %.1f dB\n", h, ref_psnr);
            finish(w, 1);
            return;
        }
        head->seen = TRUE;
        head->first_seq = s->seq;
        head->first_us = now;
        head->distinct = 1;
        g_print("spice-heads: head %u first picture after %.0f ms (seq %u, reference bars "
                "%.1f dB)\n", h, (now - w->t0) / 1000.0, s->seq, ref_psnr);
    } else if (s->seq == head->last_seq) {
        return;
    } else {
        head->distinct++;
    }
    head->last_seq = s->seq;
    head->last_us = now;

    guint slot = s->seq % SEQ_RING;
    if (head->console_us[slot] && head->console_seq[slot] == s->seq &&
        head->n_latencies < MAX_LATENCIES)
        head->latencies[head->n_latencies++] = (now - head->console_us[slot]) / 1000.0;
    if (all_done(w))
        finish(w, 0);
}

static void
on_invalidate(SpiceChannel *channel, gint x, gint y, gint width, gint height, gpointer data)
{
    struct watch *w = data;
    SpiceDisplayPrimary primary;
    struct ssb_pattern_stamp stamp;
    gint id;

    /* guest-draw keeps its stamp at the top-left corner */
    if (x >= (gint)SSB_PATTERN_STAMP_WIDTH || y >= (gint)SSB_PATTERN_STAMP_HEIGHT)
        return;
    g_object_get(channel, "channel-id", &id, NULL);
    if (id < 0 || (guint)id >= w->n_heads ||
        !spice_display_channel_get_primary(channel, 0, &primary) || !primary.data)
        return;
    /* Decode exactly where guest-draw puts the stamp: a search over a
     * larger area costs far more whenever an update carries only part of
     * a new stamp, which is common (QEMU splits updates). */
    if ((guint32)primary.width < SSB_PATTERN_STAMP_WIDTH ||
        (guint32)primary.height < SSB_PATTERN_STAMP_HEIGHT)
        return;
    guint32 cw = SSB_PATTERN_STAMP_WIDTH, ch = SSB_PATTERN_STAMP_HEIGHT;
    guint32 sx, sy;
    if (!ssb_pattern_find_stamp(primary.data, (guint32)primary.stride, cw, ch, &stamp, &sx,
                                &sy))
        return;
    double psnr = 0;
    if (sy + SSB_PATTERN_REF_Y + SSB_PATTERN_REF_HEIGHT <= (guint32)primary.height)
        psnr = ssb_pattern_reference_psnr(primary.data, (guint32)primary.stride,
                                          sx + SSB_PATTERN_REF_X, sy + SSB_PATTERN_REF_Y);
    check_stamp(w, (guint)id, &stamp, psnr);
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, gpointer data)
{
    if (!SPICE_IS_DISPLAY_CHANNEL(channel))
        return;
    g_signal_connect(channel, "display-invalidate", G_CALLBACK(on_invalidate), data);
    spice_channel_connect(channel);
}

static void
on_disconnected(SpiceSession *session, gpointer data)
{
    struct watch *w = data;

    g_printerr("spice-heads: disconnected from the SPICE server\n");
    finish(w, 1);
}

static gboolean
try_connect(gpointer data)
{
    struct watch *w = data;

    if (!g_file_test(w->unix_path, G_FILE_TEST_EXISTS))
        return G_SOURCE_CONTINUE;
    w->session = spice_session_new();
    g_object_set(w->session, "unix-path", w->unix_path, NULL);
    g_signal_connect(w->session, "channel-new", G_CALLBACK(on_channel_new), w);
    g_signal_connect(w->session, "disconnected", G_CALLBACK(on_disconnected), w);
    if (!spice_session_connect(w->session)) {
        g_printerr("spice-heads: cannot connect to %s\n", w->unix_path);
        finish(w, 1);
    }
    return G_SOURCE_REMOVE;
}

/* ---- the guest's console ----------------------------------------------------- */

static void
console_line(struct watch *w, const char *line, gint64 now)
{
    guint head, seq;

    if (sscanf(line, "ssb-frame %u %u", &head, &seq) == 2) {
        if (head < w->n_heads) {
            w->heads[head].console_us[seq % SEQ_RING] = now;
            w->heads[head].console_seq[seq % SEQ_RING] = seq;
        }
        w->console_frames++;
        return;
    }
    const char *marker = strstr(line, "ssb-guest:");
    if (marker) {
        g_print("guest: %s\n", marker);
        if (g_str_has_prefix(marker, "ssb-guest: error"))
            finish(w, 1);
    }
}

static gboolean
on_console(GIOChannel *source, GIOCondition cond, gpointer data)
{
    struct watch *w = data;
    char buf[4096];
    gint64 now = g_get_monotonic_time();
    ssize_t len = read(g_io_channel_unix_get_fd(source), buf, sizeof(buf));

    if (len <= 0) {
        if (len < 0 && (errno == EINTR || errno == EAGAIN))
            return G_SOURCE_CONTINUE;
        w->console_watch = 0;       /* QEMU closed it */
        return G_SOURCE_REMOVE;
    }
    for (ssize_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            if (w->console_line->len)
                console_line(w, w->console_line->str, now);
            g_string_truncate(w->console_line, 0);
        } else if (w->console_line->len < 512) {
            g_string_append_c(w->console_line, buf[i]);
        }
    }
    return G_SOURCE_CONTINUE;
}

/* ---- report ---------------------------------------------------------------- */

static int
compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void
report(struct watch *w)
{
    for (guint h = 0; h < w->n_heads; h++) {
        struct head *head = &w->heads[h];
        double span = (head->last_us - head->first_us) / 1e6;
        double fps = span > 0 ? (head->distinct - 1) / span : 0;

        if (!head->seen) {
            g_print("head %u: no stamp seen\n", h);
            continue;
        }
        g_print("head %u scanout=%u seq=%u..%u updates=%u first_ms=%.0f client_fps=%.1f", h,
                h, head->first_seq, head->last_seq, head->updates,
                (head->first_us - w->t0) / 1000.0, fps);
        if (head->n_latencies) {
            qsort(head->latencies, head->n_latencies, sizeof(double), compare_double);
            g_print(" latency_ms median=%.1f max=%.1f n=%u",
                    head->latencies[head->n_latencies / 2],
                    head->latencies[head->n_latencies - 1], head->n_latencies);
        }
        g_print("\n");
    }
    if (w->console_frames)
        g_print("console: %u ssb-frame lines\n", w->console_frames);
}

static void
on_closed(SpiceSession *session, gpointer data)
{
    *(gboolean *)data = TRUE;
}

static gboolean
on_close_timeout(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Disconnects and lets the channels' coroutines finish (they hold messages
 * in flight), then drops the session. */
static void
session_close(SpiceSession *session)
{
    gboolean closed = FALSE, late = FALSE;
    guint timer = g_timeout_add(2000, on_close_timeout, &late);

    g_signal_handlers_disconnect_matched(session, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                         on_disconnected, NULL);
    g_signal_connect(session, "disconnected", G_CALLBACK(on_closed), &closed);
    spice_session_disconnect(session);
    while (!closed && !late)
        g_main_context_iteration(NULL, TRUE);
    if (!late)
        g_source_remove(timer);
    g_object_unref(session);
    /* spice-gtk unrefs its channels from idles */
    late = FALSE;
    g_timeout_add(20, on_close_timeout, &late);
    while (!late)
        g_main_context_iteration(NULL, TRUE);
}

static gboolean
on_timeout(gpointer data)
{
    struct watch *w = data;

    g_printerr("spice-heads: timed out\n");
    finish(w, 1);
    return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
    static struct watch w = { .status = -1 };
    gint n_heads = 2, frames = 30, timeout = 60, min_psnr = 30;
    g_autofree char *unix_path = NULL, *serial = NULL;
    GOptionEntry entries[] = {
        { "unix", 0, 0, G_OPTION_ARG_FILENAME, &unix_path, "SPICE unix socket", "PATH" },
        { "heads", 0, 0, G_OPTION_ARG_INT, &n_heads, "heads to watch (2)", "N" },
        { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "distinct frames per head (30)", "K" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "seconds before failing (60)", "S" },
        { "serial", 0, 0, G_OPTION_ARG_FILENAME, &serial, "the guest's console", "FILE" },
        { "min-psnr", 0, 0, G_OPTION_ARG_INT, &min_psnr,
          "least PSNR of the reference bars on a head's first stamp, dB (30)", "DB" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("- check the test guest's heads");
    g_autoptr(GError) error = NULL;

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error) || !unix_path ||
        n_heads < 1 || n_heads > MAX_HEADS || frames < 2 || timeout < 1) {
        g_printerr("spice-heads: %s\n", error ? error->message : "bad or missing arguments");
        return 2;
    }
    w.unix_path = unix_path;
    w.n_heads = (guint)n_heads;
    w.want_frames = (guint)frames;
    w.min_ref_psnr = (guint32)MAX(min_psnr, 0);
    w.t0 = g_get_monotonic_time();
    w.loop = g_main_loop_new(NULL, FALSE);
    w.console_line = g_string_new(NULL);

    GIOChannel *console = NULL;
    if (serial) {
        /* A FIFO: opening blocks until QEMU opens its end. */
        int fd = open(serial, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            g_printerr("spice-heads: %s: %s\n", serial, g_strerror(errno));
            return 2;
        }
        console = g_io_channel_unix_new(fd);
        g_io_channel_set_close_on_unref(console, TRUE);
        w.console_watch = g_io_add_watch(console, G_IO_IN | G_IO_HUP | G_IO_ERR, on_console, &w);
    }

    if (try_connect(&w) == G_SOURCE_CONTINUE)
        g_timeout_add(20, try_connect, &w);
    g_timeout_add_seconds((guint)timeout, on_timeout, &w);
    g_main_loop_run(w.loop);

    report(&w);
    if (w.console_watch)
        g_source_remove(w.console_watch);
    if (console)
        g_io_channel_unref(console);
    if (w.session)
        session_close(w.session);
    g_string_free(w.console_line, TRUE);
    g_main_loop_unref(w.loop);
    return w.status;
}
