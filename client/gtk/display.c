/* SsbDisplay: the widget object, frame intake, geometry and snapshots.
 * Rendering lives in display-gl.c / display-cairo.c, input in
 * display-input.c, the cursor in cursor.c, the overlay in stats.c.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <math.h>
#include <string.h>

#define MIN_SIZE 32

struct _SsbDisplay {
    GtkEventBox parent;

    SsbClient *client;            /* owned ref */
    SpiceSession *session;        /* owned ref */
    guint scanout_id;
    gboolean use_gl;
    gboolean show_stats;

    GtkWidget *overlay;           /* GtkOverlay: renderer child + stats label */
    SsbRenderer *renderer;
    SsbInput *input;
    SsbCursor *cursor;
    SsbStats *stats;

    int img_w, img_h;             /* the picture shown (last frame's size) */
    int display_channel_id;       /* -1 until the scanout is announced */
    guint64 frames;
    guint64 frames_at_install;    /* @frames when the renderer was installed */
    gboolean renderer_failed;     /* GL failed at realize: cairo comes next */
    guint fallback_idle;
};

enum {
    PROP_0,
    PROP_CLIENT,
    PROP_SESSION,
    PROP_SCANOUT_ID,
    PROP_USE_GL,
    PROP_SHOW_STATS,
    PROP_KEYBOARD_GRABBED,
    N_PROPS,
};

enum {
    SIGNAL_SCANOUT_RESIZED,
    N_SIGNALS,
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(SsbDisplay, ssb_display, GTK_TYPE_EVENT_BOX)

void
ssb_viewport_compute(int area_w, int area_h, int img_w, int img_h, SsbViewport *vp)
{
    double scale;

    memset(vp, 0, sizeof(*vp));
    if (area_w <= 0 || area_h <= 0 || img_w <= 0 || img_h <= 0)
        return;
    scale = MIN((double)area_w / img_w, (double)area_h / img_h);
    vp->width = CLAMP((int)lround(img_w * scale), 1, area_w);
    vp->height = CLAMP((int)lround(img_h * scale), 1, area_h);
    vp->x = (area_w - vp->width) / 2;
    vp->y = (area_h - vp->height) / 2;
}

void
ssb_display_get_image_size(SsbDisplay *self, int *width, int *height)
{
    *width = self->img_w;
    *height = self->img_h;
}

/* Follows the scanout's announced size and display channel. */
static void
update_scanout_info(SsbDisplay *self)
{
    SsbScanoutInfo info;

    if (!ssb_client_get_scanout(self->client, self->scanout_id, &info))
        return;
    if ((int)info.display_channel_id != self->display_channel_id) {
        self->display_channel_id = (int)info.display_channel_id;
        ssb_input_set_display_id(self->input, self->display_channel_id);
        ssb_cursor_set_display_id(self->cursor, self->display_channel_id);
    }
    if (self->img_w == 0) {
        /* no frame yet: size the widget for the announced scanout */
        gtk_widget_queue_resize(GTK_WIDGET(self));
    }
}

static void
set_image_size(SsbDisplay *self, int width, int height)
{
    if (width == self->img_w && height == self->img_h)
        return;
    self->img_w = width;
    self->img_h = height;
    gtk_widget_queue_resize(GTK_WIDGET(self));
    g_signal_emit(self, signals[SIGNAL_SCANOUT_RESIZED], 0, (guint)width, (guint)height);
}

static void
on_frame(SsbClient *client, SsbFrame *frame, SsbDisplay *self)
{
    SsbFrame *own;

    if (ssb_frame_get_scanout_id(frame) != self->scanout_id || self->renderer == NULL ||
        self->client == NULL)
        return;
    /* Take the client's copy: a held frame keeps one of the server's buffers. */
    own = ssb_client_take_frame(client, self->scanout_id);
    if (own == NULL)
        own = ssb_frame_ref(frame);
    if (self->display_channel_id < 0)
        update_scanout_info(self);
    set_image_size(self, (int)ssb_frame_get_width(own), (int)ssb_frame_get_height(own));
    self->frames++;
    ssb_stats_frame(self->stats, own, ssb_client_get_path_name(client, self->scanout_id),
                    ssb_client_get_decoder_name(client, self->scanout_id));
    self->renderer->show_frame(self->renderer, own);
}

static void
on_scanout_changed(SsbClient *client, guint scanout_id, SsbDisplay *self)
{
    if (scanout_id == self->scanout_id && self->client != NULL)
        update_scanout_info(self);
}

static void
install_renderer(SsbDisplay *self, SsbRenderer *renderer)
{
    if (self->renderer != NULL) {
        gtk_container_remove(GTK_CONTAINER(self->overlay), self->renderer->widget);
        self->renderer->destroy(self->renderer);
    }
    self->renderer = renderer;
    self->renderer_failed = FALSE;
    self->frames_at_install = self->frames;
    gtk_container_add(GTK_CONTAINER(self->overlay), renderer->widget);
    gtk_widget_show(renderer->widget);
    g_debug("scanout %u: %s renderer", self->scanout_id, renderer->name);
}

static gboolean
fallback_to_cairo(gpointer data)
{
    SsbDisplay *self = data;

    self->fallback_idle = 0;
    g_message("scanout %u: OpenGL unavailable, drawing with cairo", self->scanout_id);
    install_renderer(self, ssb_renderer_cairo_new(self));
    return G_SOURCE_REMOVE;
}

void
ssb_display_renderer_failed(SsbDisplay *self)
{
    self->renderer_failed = TRUE;
    if (self->fallback_idle == 0)
        self->fallback_idle = g_idle_add(fallback_to_cairo, self);
}

void
ssb_display_notify_grab(SsbDisplay *self)
{
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_KEYBOARD_GRABBED]);
}

static gboolean
gl_wanted(SsbDisplay *self)
{
    const char *env = g_getenv("SSB_DISPLAY_GL");

    if (env != NULL && (g_str_equal(env, "0") || g_ascii_strcasecmp(env, "no") == 0))
        return FALSE;
    return self->use_gl;
}

static void
ssb_display_constructed(GObject *object)
{
    SsbDisplay *self = SSB_DISPLAY(object);
    SsbRenderer *renderer = NULL;

    G_OBJECT_CLASS(ssb_display_parent_class)->constructed(object);
    g_return_if_fail(self->client != NULL && self->session != NULL);

    self->overlay = gtk_overlay_new();
    gtk_container_add(GTK_CONTAINER(self), self->overlay);
    gtk_widget_show(self->overlay);
    self->stats = ssb_stats_new(self);
    gtk_overlay_add_overlay(GTK_OVERLAY(self->overlay), ssb_stats_get_widget(self->stats));
    ssb_stats_set_visible(self->stats, self->show_stats);

    if (gl_wanted(self))
        renderer = ssb_renderer_gl_new(self);
    install_renderer(self, renderer ? renderer : ssb_renderer_cairo_new(self));

    self->input = ssb_input_new(self, self->session);
    self->cursor = ssb_cursor_new(self, self->session);
    g_signal_connect_object(self->client, "frame", G_CALLBACK(on_frame), self, 0);
    g_signal_connect_object(self->client, "scanout-added", G_CALLBACK(on_scanout_changed),
                            self, 0);
    g_signal_connect_object(self->client, "scanout-resized", G_CALLBACK(on_scanout_changed),
                            self, 0);
    update_scanout_info(self);
}

static void
ssb_display_dispose(GObject *object)
{
    SsbDisplay *self = SSB_DISPLAY(object);

    g_clear_handle_id(&self->fallback_idle, g_source_remove);
    g_clear_pointer(&self->input, ssb_input_free);
    g_clear_pointer(&self->cursor, ssb_cursor_free);
    g_clear_pointer(&self->stats, ssb_stats_free);
    if (self->renderer != NULL) {
        self->renderer->destroy(self->renderer);
        self->renderer = NULL;
    }
    G_OBJECT_CLASS(ssb_display_parent_class)->dispose(object);
    /* after the children are gone: the GL renderer's unrealize needs us */
    g_clear_object(&self->client);
    g_clear_object(&self->session);
}

static void
ssb_display_realize(GtkWidget *widget)
{
    SsbDisplay *self = SSB_DISPLAY(widget);

    GTK_WIDGET_CLASS(ssb_display_parent_class)->realize(widget);
    ssb_cursor_apply(self->cursor);
}

static void
natural_size(SsbDisplay *self, int *width, int *height)
{
    SsbScanoutInfo info;

    *width = self->img_w;
    *height = self->img_h;
    if (*width == 0 && ssb_client_get_scanout(self->client, self->scanout_id, &info)) {
        *width = (int)info.width;
        *height = (int)info.height;
    }
    if (*width == 0) {
        *width = 640;
        *height = 480;
    }
}

static void
ssb_display_get_preferred_width(GtkWidget *widget, int *minimum, int *natural)
{
    int w, h;

    natural_size(SSB_DISPLAY(widget), &w, &h);
    *minimum = MIN_SIZE;
    *natural = MAX(w, MIN_SIZE);
}

static void
ssb_display_get_preferred_height(GtkWidget *widget, int *minimum, int *natural)
{
    int w, h;

    natural_size(SSB_DISPLAY(widget), &w, &h);
    *minimum = MIN_SIZE;
    *natural = MAX(h, MIN_SIZE);
}

static void
ssb_display_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
    SsbDisplay *self = SSB_DISPLAY(object);

    switch (id) {
    case PROP_CLIENT:
        self->client = g_value_dup_object(value);
        break;
    case PROP_SESSION:
        self->session = g_value_dup_object(value);
        break;
    case PROP_SCANOUT_ID:
        self->scanout_id = g_value_get_uint(value);
        break;
    case PROP_USE_GL:
        self->use_gl = g_value_get_boolean(value);
        break;
    case PROP_SHOW_STATS:
        ssb_display_set_show_stats(self, g_value_get_boolean(value));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
ssb_display_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    SsbDisplay *self = SSB_DISPLAY(object);

    switch (id) {
    case PROP_CLIENT:
        g_value_set_object(value, self->client);
        break;
    case PROP_SESSION:
        g_value_set_object(value, self->session);
        break;
    case PROP_SCANOUT_ID:
        g_value_set_uint(value, self->scanout_id);
        break;
    case PROP_USE_GL:
        g_value_set_boolean(value, self->use_gl);
        break;
    case PROP_SHOW_STATS:
        g_value_set_boolean(value, self->show_stats);
        break;
    case PROP_KEYBOARD_GRABBED:
        g_value_set_boolean(value, self->input && ssb_input_get_grabbed(self->input));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
ssb_display_class_init(SsbDisplayClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                  G_PARAM_STATIC_STRINGS;

    object_class->constructed = ssb_display_constructed;
    object_class->dispose = ssb_display_dispose;
    object_class->set_property = ssb_display_set_property;
    object_class->get_property = ssb_display_get_property;
    widget_class->realize = ssb_display_realize;
    widget_class->get_preferred_width = ssb_display_get_preferred_width;
    widget_class->get_preferred_height = ssb_display_get_preferred_height;

    props[PROP_CLIENT] = g_param_spec_object("client", "Client", "The sideband client",
                                             SSB_TYPE_CLIENT, construct);
    props[PROP_SESSION] = g_param_spec_object("session", "Session", "The SPICE session",
                                              SPICE_TYPE_SESSION, construct);
    props[PROP_SCANOUT_ID] = g_param_spec_uint("scanout-id", "Scanout id", "The scanout shown",
                                               0, G_MAXUINT32, 0, construct);
    props[PROP_USE_GL] = g_param_spec_boolean("use-gl", "Use GL",
                                              "Render with OpenGL when available", TRUE,
                                              construct);
    props[PROP_SHOW_STATS] = g_param_spec_boolean("show-stats", "Show stats",
                                                  "Overlay fps, latency and path", FALSE,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  G_PARAM_EXPLICIT_NOTIFY);
    props[PROP_KEYBOARD_GRABBED] = g_param_spec_boolean("keyboard-grabbed", "Keyboard grabbed",
                                                        "The widget holds the keyboard grab",
                                                        FALSE,
                                                        G_PARAM_READABLE |
                                                        G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);

    signals[SIGNAL_SCANOUT_RESIZED] =
        g_signal_new("scanout-resized", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
}

static void
ssb_display_init(SsbDisplay *self)
{
    self->use_gl = TRUE;
    self->display_channel_id = -1;
    gtk_widget_set_can_focus(GTK_WIDGET(self), TRUE);
    gtk_event_box_set_above_child(GTK_EVENT_BOX(self), TRUE);
}

GtkWidget *
ssb_display_new(SsbClient *client, SpiceSession *session, guint scanout_id)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), NULL);
    g_return_val_if_fail(SPICE_IS_SESSION(session), NULL);
    return g_object_new(SSB_TYPE_DISPLAY, "client", client, "session", session, "scanout-id",
                        scanout_id, NULL);
}

guint
ssb_display_get_scanout_id(SsbDisplay *self)
{
    g_return_val_if_fail(SSB_IS_DISPLAY(self), 0);
    return self->scanout_id;
}

void
ssb_display_set_show_stats(SsbDisplay *self, gboolean show)
{
    g_return_if_fail(SSB_IS_DISPLAY(self));
    show = !!show;
    if (self->show_stats == show)
        return;
    self->show_stats = show;
    if (self->stats != NULL)
        ssb_stats_set_visible(self->stats, show);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SHOW_STATS]);
}

gboolean
ssb_display_get_show_stats(SsbDisplay *self)
{
    g_return_val_if_fail(SSB_IS_DISPLAY(self), FALSE);
    return self->show_stats;
}

const char *
ssb_display_get_renderer(SsbDisplay *self)
{
    g_return_val_if_fail(SSB_IS_DISPLAY(self), "none");
    if (self->renderer == NULL || self->renderer_failed ||
        !gtk_widget_get_realized(self->renderer->widget))
        return "none";
    return self->renderer->name;
}

guint64
ssb_display_get_frame_count(SsbDisplay *self)
{
    g_return_val_if_fail(SSB_IS_DISPLAY(self), 0);
    return self->frames;
}

GdkPixbuf *
ssb_display_get_snapshot(SsbDisplay *self)
{
    cairo_surface_t *surface;
    GtkWidget *child;
    GdkPixbuf *pixbuf;
    cairo_t *cr;
    int w, h;

    g_return_val_if_fail(SSB_IS_DISPLAY(self), NULL);
    /* The renderer's child, not the whole widget: a resize queued on us or
     * the overlay (the stats label changes size) would make
     * gtk_widget_draw() refuse until the next layout; the child is never
     * queued, and its allocation is what the screen shows. */
    child = self->renderer != NULL ? self->renderer->widget : NULL;
    if (child == NULL || self->renderer_failed || self->frames == self->frames_at_install || !gtk_widget_get_mapped(child) || !gtk_widget_is_drawable(child))
        return NULL;
    w = gtk_widget_get_allocated_width(child);
    h = gtk_widget_get_allocated_height(child);
    if (w <= 1 || h <= 1)
        return NULL;
    /* gtk_widget_draw() on an image surface: GtkGLArea reads its
     * framebuffer back (glReadPixels), the cairo renderer paints. */
    surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cr = cairo_create(surface);
    gtk_widget_draw(child, cr);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    pixbuf = gdk_pixbuf_get_from_surface(surface, 0, 0, w, h);
    cairo_surface_destroy(surface);
    return pixbuf;
}

void
ssb_display_release_keyboard(SsbDisplay *self)
{
    g_return_if_fail(SSB_IS_DISPLAY(self));
    ssb_input_ungrab(self->input);
}
