/* QXL device model for the demo VMM: see display.h.
 *
 * Threads: demo_display_draw() runs on the main loop; spice-server calls
 * get_command, req_cmd_notification and release_resource on its display
 * worker thread (one per QXL instance).  The command queue and the
 * counters are shared under @lock; spice_qxl_wakeup() is thread-safe.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display.h"

#include <glib.h>
#include <spice/qxl_dev.h>
#include <stdbool.h>
#include <string.h>

#define MEMSLOT_GROUP 0
/* Unreleased bitmap bytes allowed.  spice-server keeps a drawable while
 * any part of it is visible in its tree and while its GLZ dictionary
 * references it (about 6 MB at 640x480 with a local client); past the cap
 * the damage goes to a backlog and the worker is asked to release some
 * (spice_qxl_oom). */
#define MAX_FRAMES_HELD 3
#define MIN_BYTES_HELD (8u << 20)
#define MAX_COMMANDS_HELD 1024

struct demo_update {
    struct demo_update *prev, *next;   /* every unreleased update */
    QXLCommandExt ext;
    QXLDrawable drawable;
    QXLImage image;
    size_t bytes;
    uint8_t bitmap[];
};

struct demo_display {
    QXLInstance qxl;
    SpiceServer *spice;
    uint32_t id, width, height;
    uint8_t *primary;          /* surface memory, owned by the device */
    uint64_t next_image_id;

    GMutex lock;
    GQueue queue;              /* struct demo_update, oldest first */
    struct demo_update *held;  /* all unreleased updates, queued or not */
    uint64_t bytes_held, bytes_max;
    uint32_t commands_held;
    struct demo_display_stats stats;

    bool has_backlog;          /* main loop only */
    struct ssb_rect backlog;
};

/* ---- QXLInterface (worker thread except attached_worker) ----------------- */

static void
qxl_attached_worker(QXLInstance *qin)
{
    /* Guest "physical" addresses are our own pointers: one slot covering
     * the whole address space with no translation, generation 0. */
    QXLDevMemSlot slot = {
        .slot_group_id = MEMSLOT_GROUP,
        .slot_id = 0,
        .generation = 0,
        .virt_start = 0,
        .virt_end = ~(uint64_t)0,
        .addr_delta = 0,
        .qxl_ram_size = ~(uint32_t)0,
    };

    spice_qxl_add_memslot(qin, &slot);
}

static void
qxl_set_compression_level(QXLInstance *qin, int level)
{
}

static void
qxl_get_init_info(QXLInstance *qin, QXLDevInitInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->num_memslots = 1;
    info->num_memslots_groups = 1;
    /* Slot id and generation live in the address's top bits; user-space
     * pointers have them clear. */
    info->memslot_id_bits = 1;
    info->memslot_gen_bits = 1;
    info->n_surfaces = 1;       /* the primary only */
}

static int
qxl_get_command(QXLInstance *qin, struct QXLCommandExt *cmd)
{
    struct demo_display *display = SPICE_CONTAINEROF(qin, struct demo_display, qxl);
    struct demo_update *update;

    g_mutex_lock(&display->lock);
    update = g_queue_pop_head(&display->queue);
    g_mutex_unlock(&display->lock);
    if (!update)
        return 0;
    *cmd = update->ext;
    return 1;
}

static int
qxl_req_cmd_notification(QXLInstance *qin)
{
    struct demo_display *display = SPICE_CONTAINEROF(qin, struct demo_display, qxl);
    bool empty;

    /* The main loop wakes the worker after every frame it queues, so an
     * empty queue needs no extra bookkeeping. */
    g_mutex_lock(&display->lock);
    empty = g_queue_is_empty(&display->queue);
    g_mutex_unlock(&display->lock);
    return empty;
}

static void
qxl_release_resource(QXLInstance *qin, struct QXLReleaseInfoExt release_info)
{
    struct demo_display *display = SPICE_CONTAINEROF(qin, struct demo_display, qxl);
    struct demo_update *update = (struct demo_update *)(uintptr_t)release_info.info->id;

    g_mutex_lock(&display->lock);
    if (update->prev)
        update->prev->next = update->next;
    else
        display->held = update->next;
    if (update->next)
        update->next->prev = update->prev;
    display->bytes_held -= update->bytes;
    display->commands_held--;
    display->stats.released++;
    g_mutex_unlock(&display->lock);
    g_free(update);
}

static int
qxl_get_cursor_command(QXLInstance *qin, struct QXLCommandExt *cmd)
{
    return 0;   /* no cursor: viewers draw their own in client mouse mode */
}

static int
qxl_req_cursor_notification(QXLInstance *qin)
{
    return 1;
}

static void
qxl_notify_update(QXLInstance *qin, uint32_t update_id)
{
}

static int
qxl_flush_resources(QXLInstance *qin)
{
    return 0;
}

static void
qxl_set_client_capabilities(QXLInstance *qin, uint8_t client_present,
                            uint8_t caps[SPICE_CAPABILITIES_SIZE])
{
}

static int
qxl_client_monitors_config(QXLInstance *qin, VDAgentMonitorsConfig *monitors_config)
{
    return 0;   /* fixed-size scanouts: the client cannot resize them */
}

static const QXLInterface qxl_interface = {
    .base = {
        .type = SPICE_INTERFACE_QXL,
        .description = "spice-sideband-demo scanout",
        .major_version = SPICE_INTERFACE_QXL_MAJOR,
        .minor_version = SPICE_INTERFACE_QXL_MINOR,
    },
    .attached_worker = qxl_attached_worker,
    .set_compression_level = qxl_set_compression_level,
    .get_init_info = qxl_get_init_info,
    .get_command = qxl_get_command,
    .req_cmd_notification = qxl_req_cmd_notification,
    .release_resource = qxl_release_resource,
    .get_cursor_command = qxl_get_cursor_command,
    .req_cursor_notification = qxl_req_cursor_notification,
    .notify_update = qxl_notify_update,
    .flush_resources = qxl_flush_resources,
    .set_client_capabilities = qxl_set_client_capabilities,
    .client_monitors_config = qxl_client_monitors_config,
};

/* ---- main loop side ------------------------------------------------------ */

struct demo_display *
demo_display_create(SpiceServer *spice, uint32_t id, uint32_t width, uint32_t height)
{
    struct demo_display *display = g_new0(struct demo_display, 1);

    display->spice = spice;
    display->id = id;
    display->width = width;
    display->height = height;
    display->primary = g_malloc0((size_t)width * height * 4);
    display->bytes_max = MAX((uint64_t)MAX_FRAMES_HELD * width * height * 4, MIN_BYTES_HELD);
    g_mutex_init(&display->lock);
    g_queue_init(&display->queue);

    display->qxl.base.sif = &qxl_interface.base;
    display->qxl.id = (int)id;     /* becomes the display channel id */
    if (spice_server_add_interface(spice, &display->qxl.base) != 0) {
        g_printerr("spice-sideband-demo: spice-server refused QXL instance %u\n", id);
        /* Never attached: nothing calls into it. */
        g_free(display->primary);
        g_mutex_clear(&display->lock);
        g_free(display);
        return NULL;
    }

    QXLDevSurfaceCreate surface = {
        .width = width,
        .height = height,
        .stride = -(int32_t)(width * 4),   /* bottom-up, as QEMU's QXL does */
        .format = SPICE_SURFACE_FMT_32_xRGB,
        .mouse_mode = 1,
        .mem = (QXLPHYSICAL)(uintptr_t)display->primary,
        .group_id = MEMSLOT_GROUP,
    };
    spice_qxl_create_primary_surface(&display->qxl, 0, &surface);
    return display;
}

void
demo_display_destroy(struct demo_display *display)
{
    struct demo_update *update;

    if (!display)
        return;
    /* Whatever spice-server did not release is ours again. */
    g_queue_clear(&display->queue);
    while ((update = display->held)) {
        display->held = update->next;
        g_free(update);
    }
    g_mutex_clear(&display->lock);
    g_free(display->primary);
    g_free(display);
}

static struct demo_update *
update_new(struct demo_display *display, const uint8_t *pixels, uint32_t stride,
           const struct ssb_rect *r)
{
    size_t row_bytes = (size_t)r->width * 4, bytes = row_bytes * r->height;
    struct demo_update *update = g_malloc0(sizeof(*update) + bytes);
    QXLDrawable *drawable = &update->drawable;
    QXLImage *image = &update->image;

    update->bytes = bytes;
    for (uint32_t y = 0; y < r->height; y++)
        memcpy(update->bitmap + y * row_bytes,
               pixels + (size_t)(r->y + y) * stride + (size_t)r->x * 4, row_bytes);

    drawable->surface_id = 0;
    drawable->bbox = (QXLRect){ .left = (int32_t)r->x, .top = (int32_t)r->y,
                                .right = (int32_t)(r->x + r->width),
                                .bottom = (int32_t)(r->y + r->height) };
    drawable->clip.type = SPICE_CLIP_TYPE_NONE;
    drawable->effect = QXL_EFFECT_OPAQUE;
    drawable->release_info.id = (uint64_t)(uintptr_t)update;
    drawable->type = QXL_DRAW_COPY;
    drawable->surfaces_dest[0] = drawable->surfaces_dest[1] = drawable->surfaces_dest[2] = -1;
    drawable->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    drawable->u.copy.src_bitmap = (QXLPHYSICAL)(uintptr_t)image;
    drawable->u.copy.src_area = (QXLRect){ .right = (int32_t)r->width,
                                           .bottom = (int32_t)r->height };

    QXL_SET_IMAGE_ID(image, QXL_IMAGE_GROUP_DEVICE, ++display->next_image_id);
    image->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
    image->descriptor.width = image->bitmap.x = r->width;
    image->descriptor.height = image->bitmap.y = r->height;
    image->bitmap.format = SPICE_BITMAP_FMT_32BIT;
    image->bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
    image->bitmap.stride = (uint32_t)row_bytes;
    image->bitmap.data = (QXLPHYSICAL)(uintptr_t)update->bitmap;

    update->ext.cmd.type = QXL_CMD_DRAW;
    update->ext.cmd.data = (QXLPHYSICAL)(uintptr_t)drawable;
    update->ext.group_id = MEMSLOT_GROUP;
    return update;
}

static void
rect_union(struct ssb_rect *acc, const struct ssb_rect *r)
{
    uint32_t x0 = MIN(acc->x, r->x), y0 = MIN(acc->y, r->y);
    uint32_t x1 = MAX(acc->x + acc->width, r->x + r->width);
    uint32_t y1 = MAX(acc->y + acc->height, r->y + r->height);

    *acc = (struct ssb_rect){ x0, y0, x1 - x0, y1 - y0 };
}

static void
backlog_add(struct demo_display *display, const struct ssb_rect *damage, uint32_t n_damage)
{
    for (uint32_t i = 0; i < n_damage; i++) {
        if (!display->has_backlog) {
            display->backlog = damage[i];
            display->has_backlog = true;
        } else {
            rect_union(&display->backlog, &damage[i]);
        }
    }
}

void
demo_display_draw(struct demo_display *display, const uint8_t *pixels, uint32_t stride,
                  const struct ssb_rect *damage, uint32_t n_damage)
{
    uint64_t bytes = 0;
    bool full;

    for (uint32_t i = 0; i < n_damage; i++)
        bytes += (uint64_t)damage[i].width * damage[i].height * 4;

    g_mutex_lock(&display->lock);
    full = display->bytes_held + bytes > display->bytes_max ||
           display->commands_held + n_damage + 1 > MAX_COMMANDS_HELD;
    if (full)
        display->stats.backlogged++;
    g_mutex_unlock(&display->lock);
    if (full) {
        /* Without a client (or with a slow one) spice-server keeps partly
         * covered drawables in its tree; like a QXL guest driver out of
         * memory, ask the worker to render and release some. */
        backlog_add(display, damage, n_damage);
        spice_qxl_oom(&display->qxl);
        return;
    }

    GQueue updates = G_QUEUE_INIT;
    if (display->has_backlog) {
        /* Drawn first: the newer rects paint over it where they overlap. */
        g_queue_push_tail(&updates, update_new(display, pixels, stride, &display->backlog));
        display->has_backlog = false;
    }
    for (uint32_t i = 0; i < n_damage; i++) {
        if (damage[i].width && damage[i].height)
            g_queue_push_tail(&updates, update_new(display, pixels, stride, &damage[i]));
    }

    g_mutex_lock(&display->lock);
    for (GList *l = updates.head; l; l = l->next) {
        struct demo_update *update = l->data;

        update->next = display->held;
        if (display->held)
            display->held->prev = update;
        display->held = update;
        display->bytes_held += update->bytes;
        display->commands_held++;
        display->stats.commands++;
        g_queue_push_tail(&display->queue, update);
    }
    g_mutex_unlock(&display->lock);
    g_queue_clear(&updates);
    spice_qxl_wakeup(&display->qxl);
}

void
demo_display_get_stats(struct demo_display *display, struct demo_display_stats *stats)
{
    g_mutex_lock(&display->lock);
    *stats = display->stats;
    stats->bytes_held = display->bytes_held;
    g_mutex_unlock(&display->lock);
}
