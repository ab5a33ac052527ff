/* End-to-end test harness: a real VMM (tests/server/ssb-test-vmm) in a
 * subprocess with its own XDG_RUNTIME_DIR, and a real spice-client-glib
 * session with an SsbClient in this process.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_E2E_HARNESS_H
#define SSB_E2E_HARNESS_H

#include <spice-sideband/client.h>

#include "test-pattern.h"

/* Generous: these bound a hang, they never measure anything. */
#define E2E_TIMEOUT_MS 20000

typedef struct {
    GPid pid;
    int in_fd, out_fd;            /* VMM's stdin (we write) / stdout (we read) */
    GString *out_buf;             /* bytes read, not yet a whole line */
    char *runtime_dir;            /* temp XDG_RUNTIME_DIR (owned, removed) */
    char *stderr_path;            /* the VMM's log */
    char *uri;                    /* spice+unix:///... or spice://127.0.0.1:PORT */
    gboolean tcp;
    gboolean exited;              /* reaped by test_vmm_alive() */
} TestVmm;

/* Starts the VMM listening on a unix socket or on 127.0.0.1 (a free port),
 * with @extra_args (NULL-terminated, borrowed) appended, and waits for READY. */
TestVmm *test_vmm_start(gboolean tcp, const char *const *extra_args);
/* Sends one command line and returns the first reply line (transfer full). */
char *test_vmm_command(TestVmm *vmm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Reads one more reply line (for multi-line replies). */
char *test_vmm_read_line(TestVmm *vmm);
/* "submit ID [X Y W H]": returns the seq, or 0 if the VMM said busy. */
guint64 test_vmm_submit(TestVmm *vmm, guint id, const SsbRect *rect);
/* The value of @key in the "stats" JSON (integer fields). */
gint64 test_vmm_stat(TestVmm *vmm, const char *key);
/* TRUE while the VMM process runs (FALSE once it exited or crashed). */
gboolean test_vmm_alive(TestVmm *vmm);
/* The VMM's log so far (transfer full). */
char *test_vmm_log(TestVmm *vmm);
/* Quits the VMM, reaps it, removes the runtime dir. */
void test_vmm_stop(TestVmm *vmm);

/* A model of one scanout's picture, updated like the VMM's canvas. */
typedef struct {
    guint id, width, height;
    guint8 *pixels;               /* XRGB8888, stride width * 4 */
    guint64 seq;                  /* last submit applied */
} TestCanvas;

void test_canvas_init(TestCanvas *canvas, guint id, guint width, guint height);
/* Applies submit @seq with @rect (NULL: whole surface). */
void test_canvas_apply(TestCanvas *canvas, guint64 seq, const SsbRect *rect);
void test_canvas_clear(TestCanvas *canvas);
/* Number of pixels of @data (@stride) that differ from the model. */
guint64 test_canvas_diff(const TestCanvas *canvas, const guint8 *data, guint stride);
/* Pixels of @frame (SHM or a mappable DMA-BUF) that differ from the model. */
guint64 test_canvas_diff_frame(const TestCanvas *canvas, SsbFrame *frame);

/* A client session on @vmm, with everything it saw. */
typedef struct {
    SpiceSession *session;
    SsbClient *client;
    gboolean ready, closed;
    SsbClientPath path;
    GError *error;
    SsbFrame *latest[64];         /* newest frame per scanout (owned) */
    guint frames[64];             /* frames received per scanout */
    guint added, resized, removed;
    gboolean hold;                /* keep every frame (stalled client) */
    gboolean shared_session;      /* the session belongs to another TestClient */
    GPtrArray *held;              /* SsbFrame*, owned, when hold */
} TestClient;

/* Creates the session and client (not connected): set properties and
 * formats on tc->client, then connect. */
TestClient *test_client_new(TestVmm *vmm);
/* A second client on @other's session (already connected). */
TestClient *test_client_new_on_session(TestClient *other);
void test_client_connect(TestClient *tc);
/* Connects and waits for "ready"; asserts it succeeded. */
void test_client_connect_ready(TestClient *tc);
/* Disconnects the session, drops everything. */
void test_client_free(TestClient *tc);

/* Runs the default main context until @cond(@data) or E2E_TIMEOUT_MS. */
gboolean test_run_until(gboolean (*cond)(gpointer data), gpointer data);
/* Runs until scanout @id's newest frame has seq >= @seq. */
SsbFrame *test_client_wait_seq(TestClient *tc, guint id, guint64 seq);
/* Iterates the main context for @ms. */
void test_run_for(guint ms);

/* Open fds and memfd mappings of this process. */
guint test_count_fds(void);
guint test_count_memfd_maps(void);

/* Path of the VMM's local socket under its runtime dir, or NULL. */
char *test_vmm_find_local_socket(TestVmm *vmm);

#endif /* SSB_E2E_HARNESS_H */
