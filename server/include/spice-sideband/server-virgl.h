/* libspice-sideband-server: scanouts fed from virglrenderer resources.
 *
 * For VMMs that run virglrenderer themselves and know a scanout as a virgl
 * resource id (virtio-gpu SET_SCANOUT / RESOURCE_FLUSH).  Built and
 * installed only when the library is configured with the virglrenderer
 * option.
 *
 * The VMM initialises virglrenderer (virgl_renderer_init()) and keeps it for
 * the server's lifetime; these calls use it on the thread that runs it,
 * which must be the embedder's main loop that the server runs on.  Each
 * flush makes virglrenderer's context 0 current (virgl_renderer_force_ctx_0).
 *
 * Resource ids, not GEM handles: the id to pass here is the virtio-gpu
 * resource id the guest's driver chose (the one in virtio-gpu commands and
 * in virglrenderer).  A guest program that wants to name its buffer to the
 * host gets a GEM handle from its DRM fd; that handle is private to its
 * process's DRM file and means nothing to the host.  Translate it with
 * DRM_IOCTL_VIRTGPU_RESOURCE_INFO (struct drm_virtgpu_resource_info: in
 * bo_handle, out res_handle) and close the GEM handle when done
 * (DRM_IOCTL_GEM_CLOSE), or the buffer stays alive in the guest (docs/spec.md
 * section 11).
 *
 * Per flush, per client (counted in struct ssb_server_stats):
 *   - a local client that declared the resource's fourcc + modifier in its
 *     CLIENT_HELLO gets the resource as a DMA-BUF, no copy, where
 *     virglrenderer can export it (a GBM-backed or blob resource);
 *   - every other local client gets the damaged region read back with
 *     virgl_renderer_transfer_read_iov() straight into one of its
 *     shared-memory slots;
 *   - the encoder of a remote client's video gets the damaged region read
 *     back into its picture buffer.
 *
 * Returns are 0 or -errno, as in server.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SPICE_SIDEBAND_SERVER_VIRGL_H
#define SPICE_SIDEBAND_SERVER_VIRGL_H

#include <spice-sideband/server.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Attaches the enabled scanout @scanout_id (ssb_server_scanout_enable())
 * to the virgl resource @resource_id (a virtio-gpu resource id, never a
 * guest GEM handle; see above), replacing what was attached (a guest that
 * changes mode attaches its new resource).  The resource must be a 2D
 * texture in B8G8R8X8, B8G8R8A8, R8G8B8X8 or R8G8B8A8_UNORM.  The scanout
 * is resized to the resource's size and format when they differ (clients
 * get SCANOUT_RESIZE); nothing is sent until the next flush.
 * ssb_server_scanout_disable() detaches.
 * Returns 0, -EINVAL (no such resource, unsupported format or size),
 * -ENOENT (no such scanout), -ESHUTDOWN. */
SSB_SERVER_EXPORT int ssb_server_virgl_attach(struct ssb_server *server, uint32_t scanout_id,
                                              uint32_t resource_id);

/* Forgets the resource of @scanout_id; the scanout stays enabled and shows
 * its last frame.  A DMA-BUF a local client still holds stays valid for
 * it.  Call it before virgl_renderer_resource_unref() of an attached
 * resource; if the resource went first, flushes fail with -ENOENT and this
 * still cleans up.  Returns 0, -EINVAL, -ENOENT (nothing attached). */
SSB_SERVER_EXPORT int ssb_server_virgl_detach(struct ssb_server *server, uint32_t scanout_id);

/* The guest flushed @damage (borrowed, @n_damage rects of at most
 * SSB_PROTO_MAX_RECTS, 0 = whole resource) of the attached resource:
 * sends it to every client along the paths above.  Reads happen inside
 * this call (damaged region only); nothing waits on a client.  A resource
 * whose size changed since the last call resizes the scanout first (and
 * sends a whole frame).  @t_submit_us as in ssb_server_scanout_submit().
 * Returns 0, -EINVAL, -ENOENT (nothing attached, or the resource was
 * destroyed), -ESHUTDOWN. */
SSB_SERVER_EXPORT int ssb_server_virgl_flush(struct ssb_server *server, uint32_t scanout_id,
                                             const struct ssb_rect *damage, uint32_t n_damage,
                                             uint64_t t_submit_us);

/* What the adapter knows of an attached scanout. */
struct ssb_server_virgl_info {
    uint32_t resource_id;
    uint32_t width, height, fourcc;
    /* The resource as a DMA-BUF: 0 when virglrenderer cannot export it
     * (no GBM, e.g. Mesa's software renderer), then everyone gets
     * read-back pixels. */
    uint32_t dmabuf_planes;
    uint64_t modifier;
    uint64_t flushes;
    uint64_t reads;        /* transfer_read_iov calls (one per rect) */
    uint64_t bytes_read;
    uint64_t read_us;      /* time spent in them, total */
};

/* Fills @info for @scanout_id.  Returns 0, -EINVAL or -ENOENT. */
SSB_SERVER_EXPORT int ssb_server_virgl_get_info(const struct ssb_server *server,
                                                uint32_t scanout_id,
                                                struct ssb_server_virgl_info *info);

#ifdef __cplusplus
}
#endif

#endif /* SPICE_SIDEBAND_SERVER_VIRGL_H */
