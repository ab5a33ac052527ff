/* The OpenGL renderer: a GtkGLArea drawing one textured quad through epoxy.
 *
 * Shared memory and decoded video frames are uploaded into one texture,
 * only their damaged rects (glTexSubImage2D with GL_UNPACK_ROW_LENGTH);
 * a size change reallocates it and uploads everything.  DMA-BUF frames are
 * imported with EGL_EXT_image_dma_buf_import(_modifiers) when GDK's GL
 * context is EGL-backed (Wayland); GTK3 on X11 uses GLX, where the widget
 * declares no DMA-BUF formats to the client, so the server sends SHM.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <epoxy/gl.h>
#include <string.h>

#ifdef GDK_WINDOWING_WAYLAND
#include <epoxy/egl.h>
#include <gdk/gdkwayland.h>
#endif

#define DRM_FOURCC(a, b, c, d) \
    ((guint32)(a) | (guint32)(b) << 8 | (guint32)(c) << 16 | (guint32)(d) << 24)
#define FOURCC_XRGB8888 DRM_FOURCC('X', 'R', '2', '4')
#define FOURCC_ARGB8888 DRM_FOURCC('A', 'R', '2', '4')
#define DRM_FORMAT_MOD_INVALID 0x00ffffffffffffffull

/* More damage rects than this between two renders: upload everything. */
#define MAX_PENDING_RECTS 32

typedef struct {
    SsbRenderer base;
    SsbDisplay *display;          /* borrowed: owns us */
    GLuint program, vao, vbo, texture, dmabuf_texture;
    GLint u_swizzle;
    int tex_w, tex_h;             /* allocated size of @texture */
    gboolean ready;               /* GL objects exist */
    SsbFrame *pending;            /* newest frame not yet uploaded (owned) */
    GArray *damage;               /* SsbRect: union of the pending frames' damage */
    gboolean damage_all;
    gboolean showing_dmabuf;
    SsbFrame *dmabuf_frame;       /* the imported frame, held while shown */
    gboolean egl;                 /* EGL DMA-BUF import available */
    gboolean warned;
} GlRenderer;

/* GLSL for core 3.2 / legacy desktop GL / GLES 3.  The texture holds the
 * frame's B,G,R,X bytes as R,G,B,A: swizzle back unless EGL imported it
 * with the real format. */
static const char vs_core[] =
    "#version 150\n"
    "in vec2 pos; in vec2 uv; out vec2 v_uv;\n"
    "void main() { v_uv = uv; gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char fs_core[] =
    "#version 150\n"
    "in vec2 v_uv; out vec4 color; uniform sampler2D tex; uniform bool swizzle;\n"
    "void main() { vec4 t = texture(tex, v_uv);\n"
    "  color = vec4(swizzle ? t.bgr : t.rgb, 1.0); }\n";
static const char vs_legacy[] =
    "#version 110\n"
    "attribute vec2 pos; attribute vec2 uv; varying vec2 v_uv;\n"
    "void main() { v_uv = uv; gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char fs_legacy[] =
    "#version 110\n"
    "varying vec2 v_uv; uniform sampler2D tex; uniform bool swizzle;\n"
    "void main() { vec4 t = texture2D(tex, v_uv);\n"
    "  gl_FragColor = vec4(swizzle ? t.bgr : t.rgb, 1.0); }\n";
static const char vs_es[] =
    "#version 300 es\n"
    "in vec2 pos; in vec2 uv; out highp vec2 v_uv;\n"
    "void main() { v_uv = uv; gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char fs_es[] =
    "#version 300 es\n"
    "precision highp float;\n"
    "in vec2 v_uv; out vec4 color; uniform sampler2D tex; uniform bool swizzle;\n"
    "void main() { vec4 t = texture(tex, v_uv);\n"
    "  color = vec4(swizzle ? t.bgr : t.rgb, 1.0); }\n";

/* x, y, u, v: a triangle strip over the viewport; texture row 0 on top. */
static const GLfloat quad[] = {
    -1, -1, 0, 1,
    1, -1, 1, 1,
    -1, 1, 0, 0,
    1, 1, 1, 0,
};

static GLuint
compile(GLenum type, const char *source)
{
    GLuint shader = glCreateShader(type);
    GLint ok = GL_FALSE;

    glShaderSource(shader, 1, &source, NULL);
    glCompileShader(shader);
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[512] = "";
        glGetShaderInfoLog(shader, sizeof(log), NULL, log);
        g_warning("GL shader: %s", log);
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

static gboolean
build_program(GlRenderer *gl, GdkGLContext *context)
{
    const char *vs = vs_core, *fs = fs_core;
    GLuint v, f;
    GLint ok = GL_FALSE;

    if (gdk_gl_context_get_use_es(context)) {
        vs = vs_es;
        fs = fs_es;
    } else if (gdk_gl_context_is_legacy(context)) {
        vs = vs_legacy;
        fs = fs_legacy;
    }
    v = compile(GL_VERTEX_SHADER, vs);
    f = compile(GL_FRAGMENT_SHADER, fs);
    if (!v || !f) {
        glDeleteShader(v);
        glDeleteShader(f);
        return FALSE;
    }
    gl->program = glCreateProgram();
    glAttachShader(gl->program, v);
    glAttachShader(gl->program, f);
    glBindAttribLocation(gl->program, 0, "pos");
    glBindAttribLocation(gl->program, 1, "uv");
    glLinkProgram(gl->program);
    glDeleteShader(v);
    glDeleteShader(f);
    glGetProgramiv(gl->program, GL_LINK_STATUS, &ok);
    if (!ok)
        return FALSE;
    gl->u_swizzle = glGetUniformLocation(gl->program, "swizzle");
    glUseProgram(gl->program);
    glUniform1i(glGetUniformLocation(gl->program, "tex"), 0);
    return TRUE;
}

static GLuint
new_texture(void)
{
    GLuint texture;

    glGenTextures(1, &texture);
    glBindTexture(GL_TEXTURE_2D, texture);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    return texture;
}

static gboolean
has_vao(GdkGLContext *context)
{
    int major, minor;

    gdk_gl_context_get_version(context, &major, &minor);
    return !gdk_gl_context_is_legacy(context) && major >= 3;
}

/* ------------------------------------------------------- DMA-BUF import */

#ifdef GDK_WINDOWING_WAYLAND
static EGLDisplay
current_egl_display(GtkWidget *widget)
{
    if (!GDK_IS_WAYLAND_DISPLAY(gtk_widget_get_display(widget)))
        return EGL_NO_DISPLAY;
    return eglGetCurrentDisplay();
}

/* Declares what EGL can import to the client.  Takes effect only when the
 * widget is realized before the sideband handshake (see client.h). */
static void
declare_dmabuf_formats(GlRenderer *gl, EGLDisplay dpy)
{
    g_autofree EGLint *formats = NULL;
    g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(SsbFormatModifier));
    EGLint n_formats = 0;
    SsbClient *client = NULL;

    if (!epoxy_has_egl_extension(dpy, "EGL_EXT_image_dma_buf_import_modifiers"))
        return;
    if (!eglQueryDmaBufFormatsEXT(dpy, 0, NULL, &n_formats) || n_formats <= 0)
        return;
    formats = g_new0(EGLint, n_formats);
    eglQueryDmaBufFormatsEXT(dpy, n_formats, formats, &n_formats);
    for (EGLint i = 0; i < n_formats; i++) {
        EGLint n_mods = 0;
        if ((guint32)formats[i] != FOURCC_XRGB8888 && (guint32)formats[i] != FOURCC_ARGB8888)
            continue;
        eglQueryDmaBufModifiersEXT(dpy, formats[i], 0, NULL, NULL, &n_mods);
        g_autofree EGLuint64KHR *mods = g_new0(EGLuint64KHR, MAX(n_mods, 1));
        g_autofree EGLBoolean *external = g_new0(EGLBoolean, MAX(n_mods, 1));
        eglQueryDmaBufModifiersEXT(dpy, formats[i], n_mods, mods, external, &n_mods);
        for (EGLint j = 0; j < n_mods; j++) {
            SsbFormatModifier fm = { (guint32)formats[i], mods[j] };
            if (!external[j])
                g_array_append_val(pairs, fm);
        }
    }
    g_object_get(gl->display, "client", &client, NULL);
    if (client != NULL && pairs->len > 0)
        ssb_client_set_dmabuf_formats(client, (const SsbFormatModifier *)pairs->data,
                                      pairs->len);
    g_clear_object(&client);
}

static gboolean
import_dmabuf(GlRenderer *gl, SsbFrame *frame)
{
    static const EGLint fd_attr[] = { EGL_DMA_BUF_PLANE0_FD_EXT, EGL_DMA_BUF_PLANE1_FD_EXT,
                                      EGL_DMA_BUF_PLANE2_FD_EXT, EGL_DMA_BUF_PLANE3_FD_EXT };
    static const EGLint off_attr[] = { EGL_DMA_BUF_PLANE0_OFFSET_EXT,
                                       EGL_DMA_BUF_PLANE1_OFFSET_EXT,
                                       EGL_DMA_BUF_PLANE2_OFFSET_EXT,
                                       EGL_DMA_BUF_PLANE3_OFFSET_EXT };
    static const EGLint pitch_attr[] = { EGL_DMA_BUF_PLANE0_PITCH_EXT,
                                         EGL_DMA_BUF_PLANE1_PITCH_EXT,
                                         EGL_DMA_BUF_PLANE2_PITCH_EXT,
                                         EGL_DMA_BUF_PLANE3_PITCH_EXT };
    static const EGLint lo_attr[] = { EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT,
                                      EGL_DMA_BUF_PLANE1_MODIFIER_LO_EXT,
                                      EGL_DMA_BUF_PLANE2_MODIFIER_LO_EXT,
                                      EGL_DMA_BUF_PLANE3_MODIFIER_LO_EXT };
    static const EGLint hi_attr[] = { EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT,
                                      EGL_DMA_BUF_PLANE1_MODIFIER_HI_EXT,
                                      EGL_DMA_BUF_PLANE2_MODIFIER_HI_EXT,
                                      EGL_DMA_BUF_PLANE3_MODIFIER_HI_EXT };
    EGLDisplay dpy = current_egl_display(gl->base.widget);
    gboolean modifiers;
    SsbDmabufInfo info;
    EGLint attrs[6 + 10 * SSB_FRAME_MAX_PLANES + 1];
    EGLImageKHR image;
    guint n = 0;

    if (dpy == EGL_NO_DISPLAY || !ssb_frame_get_dmabuf(frame, &info) || info.n_planes == 0 ||
        info.n_planes > SSB_FRAME_MAX_PLANES)
        return FALSE;
    modifiers = epoxy_has_egl_extension(dpy, "EGL_EXT_image_dma_buf_import_modifiers") &&
                info.modifier != DRM_FORMAT_MOD_INVALID;
    if (info.n_planes > 3 && !modifiers)
        return FALSE;
    attrs[n++] = EGL_WIDTH;
    attrs[n++] = (EGLint)ssb_frame_get_width(frame);
    attrs[n++] = EGL_HEIGHT;
    attrs[n++] = (EGLint)ssb_frame_get_height(frame);
    attrs[n++] = EGL_LINUX_DRM_FOURCC_EXT;
    attrs[n++] = (EGLint)ssb_frame_get_fourcc(frame);
    for (guint p = 0; p < info.n_planes; p++) {
        attrs[n++] = fd_attr[p];
        attrs[n++] = info.fds[p];
        attrs[n++] = off_attr[p];
        attrs[n++] = (EGLint)info.offsets[p];
        attrs[n++] = pitch_attr[p];
        attrs[n++] = (EGLint)info.strides[p];
        if (modifiers) {
            attrs[n++] = lo_attr[p];
            attrs[n++] = (EGLint)(info.modifier & 0xffffffffu);
            attrs[n++] = hi_attr[p];
            attrs[n++] = (EGLint)(info.modifier >> 32);
        }
    }
    attrs[n] = EGL_NONE;
    image = eglCreateImageKHR(dpy, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT, NULL, attrs);
    if (image == EGL_NO_IMAGE_KHR)
        return FALSE;
    if (gl->dmabuf_texture == 0)
        gl->dmabuf_texture = new_texture();
    glBindTexture(GL_TEXTURE_2D, gl->dmabuf_texture);
    glEGLImageTargetTexture2DOES(GL_TEXTURE_2D, (GLeglImageOES)image);
    /* the texture keeps the buffer; the frame stays held while shown so
     * the server does not reuse it underneath */
    eglDestroyImageKHR(dpy, image);
    return TRUE;
}
#endif /* GDK_WINDOWING_WAYLAND */

/* --------------------------------------------------------------- upload */

static void
upload_rect(const guint8 *data, guint stride, int x, int y, int w, int h)
{
    glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, w, h, GL_RGBA, GL_UNSIGNED_BYTE,
                    data + (gsize)y * stride + (gsize)x * 4);
}

static void
upload_pending(GlRenderer *gl)
{
    SsbFrame *frame = gl->pending;
    int w = (int)ssb_frame_get_width(frame), h = (int)ssb_frame_get_height(frame);
    guint32 fourcc = ssb_frame_get_fourcc(frame);
    const guint8 *data;
    guint stride = 0;

    gl->pending = NULL;
    data = ssb_frame_get_data(frame, &stride);
    if (data == NULL) {
#ifdef GDK_WINDOWING_WAYLAND
        if (gl->egl && import_dmabuf(gl, frame)) {
            g_clear_pointer(&gl->dmabuf_frame, ssb_frame_unref);
            gl->dmabuf_frame = frame;
            gl->showing_dmabuf = TRUE;
            return;
        }
#endif
        if (!gl->warned)
            g_warning("scanout frame without pixels this renderer can read (backing %d)",
                      ssb_frame_get_backing(frame));
        gl->warned = TRUE;
        goto done;
    }
    if ((fourcc != FOURCC_XRGB8888 && fourcc != FOURCC_ARGB8888) || stride % 4 != 0 ||
        stride < (guint)w * 4) {
        if (!gl->warned)
            g_warning("unsupported frame format %.4s stride %u", (const char *)&fourcc, stride);
        gl->warned = TRUE;
        goto done;
    }
    gl->showing_dmabuf = FALSE;
    g_clear_pointer(&gl->dmabuf_frame, ssb_frame_unref);
    glBindTexture(GL_TEXTURE_2D, gl->texture);
    if (w != gl->tex_w || h != gl->tex_h) {
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
        gl->tex_w = w;
        gl->tex_h = h;
        gl->damage_all = TRUE;
    }
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, (GLint)(stride / 4));
    if (gl->damage_all) {
        upload_rect(data, stride, 0, 0, w, h);
    } else {
        for (guint i = 0; i < gl->damage->len; i++) {
            const SsbRect *r = &g_array_index(gl->damage, SsbRect, i);
            int x = (int)MIN(r->x, (guint32)w), y = (int)MIN(r->y, (guint32)h);
            int rw = (int)MIN(r->width, (guint32)(w - x));
            int rh = (int)MIN(r->height, (guint32)(h - y));
            if (rw > 0 && rh > 0)
                upload_rect(data, stride, x, y, rw, rh);
        }
    }
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
done:
    g_array_set_size(gl->damage, 0);
    gl->damage_all = FALSE;
    ssb_frame_unref(frame);
}

static void
gl_show_frame(SsbRenderer *renderer, SsbFrame *frame)
{
    GlRenderer *gl = (GlRenderer *)renderer;
    const SsbRect *rects;
    guint n_rects = 0;

    /* A skipped frame's damage must be uploaded from the newer frame too. */
    rects = ssb_frame_get_damage(frame, &n_rects);
    if (gl->pending != NULL && (ssb_frame_get_width(gl->pending) != ssb_frame_get_width(frame) ||
                                ssb_frame_get_height(gl->pending) != ssb_frame_get_height(frame)))
        gl->damage_all = TRUE;
    if (n_rects == 0 || gl->damage->len + n_rects > MAX_PENDING_RECTS)
        gl->damage_all = TRUE;
    else
        g_array_append_vals(gl->damage, rects, n_rects);
    g_clear_pointer(&gl->pending, ssb_frame_unref);
    gl->pending = frame;
    gtk_gl_area_queue_render(GTK_GL_AREA(renderer->widget));
}

static gboolean
on_render(GtkGLArea *area, GdkGLContext *context, GlRenderer *gl)
{
    int scale = gtk_widget_get_scale_factor(GTK_WIDGET(area));
    int aw = gtk_widget_get_allocated_width(GTK_WIDGET(area));
    int ah = gtk_widget_get_allocated_height(GTK_WIDGET(area));
    int iw, ih;
    SsbViewport vp;

    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    if (!gl->ready)
        return TRUE;
    if (gl->pending != NULL)
        upload_pending(gl);
    iw = gl->showing_dmabuf ? (int)ssb_frame_get_width(gl->dmabuf_frame) : gl->tex_w;
    ih = gl->showing_dmabuf ? (int)ssb_frame_get_height(gl->dmabuf_frame) : gl->tex_h;
    ssb_viewport_compute(aw * scale, ah * scale, iw, ih, &vp);
    if (vp.width == 0)
        return TRUE;
    glViewport(vp.x, ah * scale - vp.y - vp.height, vp.width, vp.height);
    glUseProgram(gl->program);
    glUniform1i(gl->u_swizzle, !gl->showing_dmabuf);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, gl->showing_dmabuf ? gl->dmabuf_texture : gl->texture);
    /* 1:1 stays pixel-exact; scaled pictures are filtered */
    GLint filter = vp.width == iw && vp.height == ih ? GL_NEAREST : GL_LINEAR;
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
    if (gl->vao)
        glBindVertexArray(gl->vao);
    glBindBuffer(GL_ARRAY_BUFFER, gl->vbo);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 4 * sizeof(GLfloat), NULL);
    glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, 4 * sizeof(GLfloat),
                          (const void *)(2 * sizeof(GLfloat)));
    glEnableVertexAttribArray(0);
    glEnableVertexAttribArray(1);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    return TRUE;
}

static void
on_realize(GtkGLArea *area, GlRenderer *gl)
{
    GdkGLContext *context;

    gtk_gl_area_make_current(area);
    if (gtk_gl_area_get_error(area) != NULL) {
        g_message("GtkGLArea: %s", gtk_gl_area_get_error(area)->message);
        ssb_display_renderer_failed(gl->display);
        return;
    }
    context = gtk_gl_area_get_context(area);
    if (!build_program(gl, context)) {
        ssb_display_renderer_failed(gl->display);
        return;
    }
    if (has_vao(context)) {
        glGenVertexArrays(1, &gl->vao);
        glBindVertexArray(gl->vao);
    }
    glGenBuffers(1, &gl->vbo);
    glBindBuffer(GL_ARRAY_BUFFER, gl->vbo);
    glBufferData(GL_ARRAY_BUFFER, sizeof(quad), quad, GL_STATIC_DRAW);
    gl->texture = new_texture();
    gl->tex_w = gl->tex_h = 0;
    gl->damage_all = TRUE;
#ifdef GDK_WINDOWING_WAYLAND
    {
        EGLDisplay dpy = current_egl_display(GTK_WIDGET(area));
        gl->egl = dpy != EGL_NO_DISPLAY &&
                  epoxy_has_egl_extension(dpy, "EGL_EXT_image_dma_buf_import") &&
                  epoxy_has_gl_extension("GL_OES_EGL_image");
        if (gl->egl)
            declare_dmabuf_formats(gl, dpy);
    }
#endif
    gl->ready = TRUE;
}

static void
on_unrealize(GtkGLArea *area, GlRenderer *gl)
{
    if (!gl->ready)
        return;
    gtk_gl_area_make_current(area);
    if (gtk_gl_area_get_error(area) == NULL) {
        glDeleteTextures(1, &gl->texture);
        if (gl->dmabuf_texture)
            glDeleteTextures(1, &gl->dmabuf_texture);
        glDeleteBuffers(1, &gl->vbo);
        if (gl->vao)
            glDeleteVertexArrays(1, &gl->vao);
        glDeleteProgram(gl->program);
    }
    gl->texture = gl->dmabuf_texture = gl->vbo = gl->vao = gl->program = 0;
    gl->showing_dmabuf = FALSE;
    g_clear_pointer(&gl->dmabuf_frame, ssb_frame_unref);
    gl->ready = FALSE;
}

static void
gl_destroy(SsbRenderer *renderer)
{
    GlRenderer *gl = (GlRenderer *)renderer;

    g_signal_handlers_disconnect_by_data(renderer->widget, gl);
    g_clear_pointer(&gl->pending, ssb_frame_unref);
    g_clear_pointer(&gl->dmabuf_frame, ssb_frame_unref);
    g_array_unref(gl->damage);
    g_object_unref(renderer->widget);
    g_free(gl);
}

SsbRenderer *
ssb_renderer_gl_new(SsbDisplay *display)
{
    GlRenderer *gl = g_new0(GlRenderer, 1);

    gl->base.name = "gl";
    gl->base.show_frame = gl_show_frame;
    gl->base.destroy = gl_destroy;
    gl->display = display;
    gl->damage = g_array_new(FALSE, FALSE, sizeof(SsbRect));
    gl->base.widget = g_object_ref_sink(gtk_gl_area_new());
    gtk_gl_area_set_auto_render(GTK_GL_AREA(gl->base.widget), FALSE);
    gtk_gl_area_set_has_alpha(GTK_GL_AREA(gl->base.widget), FALSE);
    g_signal_connect(gl->base.widget, "realize", G_CALLBACK(on_realize), gl);
    g_signal_connect(gl->base.widget, "unrealize", G_CALLBACK(on_unrealize), gl);
    g_signal_connect(gl->base.widget, "render", G_CALLBACK(on_render), gl);
    return &gl->base;
}
