/* Buffer slots received on the local socket (spec 4.5).
 *
 * The server's memory is hostile: its fds are measured here and checked
 * (slot-check.c) before anything is mapped.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"
#include "slot-check.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct _SsbSlot {
    gint ref_count;               /* atomic */
    gint lent;                    /* atomic: a frame holds the slot */
    gint retired;                 /* atomic */
    gint counted;                 /* atomic: holds one of the link's slot places */
    struct ssb_msg_slot_announce layout;
    int fds[SSB_PROTO_MAX_FDS];
    guint n_fds;
    guint8 *map;                  /* SHM only */
    size_t map_size;
    SsbLocalLink *link;           /* owned reference */
};

static gboolean
slot_fail(GError **error, const char *what)
{
    g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_PROTOCOL, "SLOT_ANNOUNCE: %s", what);
    return FALSE;
}

static gboolean
map_shm(SsbSlot *slot, GError **error)
{
    const char *reason;
    struct stat st;
    int seals = fcntl(slot->fds[0], F_GET_SEALS);

    if (fstat(slot->fds[0], &st) < 0 || st.st_size < 0)
        st.st_size = 0;
    reason = ssb_slot_check_shm(&slot->layout, seals, (uint64_t)st.st_size,
                                (uint64_t)sysconf(_SC_PAGESIZE), &slot->map_size);
    if (reason != NULL)
        return slot_fail(error, reason);
    slot->map = mmap(NULL, slot->map_size, PROT_READ, MAP_SHARED, slot->fds[0], 0);
    if (slot->map == MAP_FAILED) {
        slot->map = NULL;
        return slot_fail(error, "mmap failed");
    }
    return TRUE;
}

/* Size of a DMA-BUF (or its stand-in) by seeking to its end; 0 if unknown. */
static uint64_t
measure_fd(int fd)
{
    off_t size = lseek(fd, 0, SEEK_END);

    lseek(fd, 0, SEEK_SET);
    return size > 0 ? (uint64_t)size : 0;
}

static gboolean
measure_dmabuf(SsbSlot *slot, GError **error)
{
    uint64_t sizes[SSB_PROTO_MAX_FDS];
    const char *reason;

    for (guint i = 0; i < slot->n_fds; i++)
        sizes[i] = measure_fd(slot->fds[i]);
    reason = ssb_slot_check_dmabuf(&slot->layout, sizes, slot->n_fds);
    if (reason != NULL)
        return slot_fail(error, reason);
    return TRUE;
}

SsbSlot *
ssb_slot_new(const struct ssb_msg_slot_announce *announce, int *fds, guint n_fds,
             SsbLocalLink *link, GError **error)
{
    g_autoptr(SsbSlot) slot = g_new0(SsbSlot, 1);
    gboolean ok;

    slot->ref_count = 1;
    slot->layout = *announce;
    for (guint i = 0; i < SSB_PROTO_MAX_FDS; i++)
        slot->fds[i] = -1;
    for (guint i = 0; i < n_fds && i < SSB_PROTO_MAX_FDS; i++) {
        slot->fds[i] = fds[i];
        fds[i] = -1;
    }
    slot->n_fds = MIN(n_fds, SSB_PROTO_MAX_FDS);
    slot->link = ssb_local_link_ref(link);
    /* The slot table holds at most one slot per id; a re-announce makes
     * the new one before the old is retired, hence the one spare. */
    slot->counted = ssb_local_link_slot_hold(link);
    if (!slot->counted) {
        /* FAILED, not PROTOCOL: the caller reports it as LIMIT (spec 7). */
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED,
                    "SLOT_ANNOUNCE: more slots than the protocol allows");
        return NULL;
    }
    if (slot->n_fds == 0)
        ok = slot_fail(error, "no fd");
    else if (announce->kind == SSB_SLOT_SHM)
        ok = map_shm(slot, error);
    else if (announce->kind == SSB_SLOT_DMABUF)
        ok = measure_dmabuf(slot, error);
    else
        ok = slot_fail(error, "unknown slot kind");
    return ok ? g_steal_pointer(&slot) : NULL;
}

SsbSlot *
ssb_slot_ref(SsbSlot *slot)
{
    g_return_val_if_fail(slot != NULL, NULL);
    g_atomic_int_inc(&slot->ref_count);
    return slot;
}

void
ssb_slot_unref(SsbSlot *slot)
{
    if (slot == NULL || !g_atomic_int_dec_and_test(&slot->ref_count))
        return;
    if (slot->map != NULL)
        munmap(slot->map, slot->map_size);
    for (guint i = 0; i < SSB_PROTO_MAX_FDS; i++) {
        if (slot->fds[i] >= 0)
            close(slot->fds[i]);
    }
    if (g_atomic_int_compare_and_exchange(&slot->counted, TRUE, FALSE))
        ssb_local_link_slot_drop(slot->link);
    ssb_local_link_unref(slot->link);
    g_free(slot);
}

void
ssb_slot_mark_retired(SsbSlot *slot)
{
    g_atomic_int_set(&slot->retired, 1);
    /* A retired slot leaves the table; frames may keep it a while. */
    if (g_atomic_int_compare_and_exchange(&slot->counted, TRUE, FALSE))
        ssb_local_link_slot_drop(slot->link);
}

gboolean
ssb_slot_lend(SsbSlot *slot)
{
    return g_atomic_int_compare_and_exchange(&slot->lent, 0, 1);
}

void
ssb_slot_give_back(SsbSlot *slot, guint64 seq)
{
    struct ssb_msg msg = { .type = SSB_MSG_SLOT_RELEASE };
    g_autoptr(GError) error = NULL;

    g_atomic_int_set(&slot->lent, 0);
    if (g_atomic_int_get(&slot->retired))
        return;
    msg.u.slot_release.scanout_id = slot->layout.scanout_id;
    msg.u.slot_release.slot_id = slot->layout.slot_id;
    msg.u.slot_release.seq = seq;
    /* A failure means the link is down: the server reclaims everything. */
    if (!ssb_local_link_send(slot->link, &msg, &error))
        g_debug("SLOT_RELEASE not sent: %s", error->message);
}

const struct ssb_msg_slot_announce *
ssb_slot_get_layout(const SsbSlot *slot)
{
    return &slot->layout;
}

const guint8 *
ssb_slot_get_map(const SsbSlot *slot)
{
    return slot->map;
}

const int *
ssb_slot_get_fds(const SsbSlot *slot, guint *n_fds)
{
    *n_fds = slot->n_fds;
    return slot->fds;
}
