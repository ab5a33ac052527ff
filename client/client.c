/* SsbClient: the GObject facade of the client library, its properties,
 * signals and the per-scanout state.  The handshake lives in
 * client-port.c, the local path in client-local.c.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <string.h>

G_DEFINE_QUARK(ssb-client-error-quark, ssb_client_error)

G_DEFINE_TYPE(SsbClient, ssb_client, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_SESSION,
    PROP_ALLOW_LOCAL,
    PROP_FORCE_REMOTE,
    PROP_CODEC,
    PROP_CODECS,
    PROP_DECODE_DELAY_MS,
    N_PROPS
};

enum {
    SIGNAL_READY,
    SIGNAL_SCANOUT_ADDED,
    SIGNAL_SCANOUT_RESIZED,
    SIGNAL_SCANOUT_REMOVED,
    SIGNAL_FRAME,
    SIGNAL_ERROR,
    SIGNAL_CLOSED,
    N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

GType
ssb_client_path_get_type(void)
{
    static gsize type_id;
    static const GEnumValue values[] = {
        { SSB_CLIENT_PATH_NONE, "SSB_CLIENT_PATH_NONE", "none" },
        { SSB_CLIENT_PATH_LOCAL, "SSB_CLIENT_PATH_LOCAL", "local" },
        { SSB_CLIENT_PATH_VIDEO, "SSB_CLIENT_PATH_VIDEO", "video" },
        { 0, NULL, NULL },
    };

    if (g_once_init_enter(&type_id))
        g_once_init_leave(&type_id, g_enum_register_static("SsbClientPath", values));
    return type_id;
}

static void
complete_ready_tasks(SsbClient *client, const GError *error)
{
    GList *tasks = g_steal_pointer(&client->ready_tasks);

    for (GList *l = tasks; l != NULL; l = l->next) {
        if (error != NULL)
            g_task_return_error(l->data, g_error_copy(error));
        else
            g_task_return_boolean(l->data, TRUE);
    }
    g_list_free_full(tasks, g_object_unref);
}

void
ssb_client_emit_ready(SsbClient *client, SsbClientPath path)
{
    g_autoptr(SsbClient) self = NULL;

    if (client->ready_emitted || client->state == SSB_STATE_CLOSED)
        return;
    /* A "ready" handler may drop the application's last reference. */
    self = g_object_ref(client);
    client->ready_emitted = TRUE;
    client->path = path;
    g_debug("sideband ready, path %s",
            path == SSB_CLIENT_PATH_LOCAL ? "local" : path == SSB_CLIENT_PATH_VIDEO ? "video"
                                                                                    : "none");
    g_signal_emit(client, signals[SIGNAL_READY], 0, path);
    complete_ready_tasks(client, NULL);
}

void
ssb_client_scanout_clear_local(SsbClient *client, SsbScanout *scanout)
{
    /* The server reclaims every slot when the sideband closes: no releases. */
    for (guint i = 0; i < SSB_PROTO_MAX_SLOTS; i++) {
        if (scanout->slots[i] != NULL)
            ssb_slot_mark_retired(scanout->slots[i]);
        g_clear_pointer(&scanout->slots[i], ssb_slot_unref);
    }
    g_clear_pointer(&scanout->pending, ssb_frame_unref);
}

/* How the port channel ends (see ssb_port_transport_destroy()). */
#define KEEP_CHANNEL (-1)
#define DISCONNECT_NOW 0
/* After our GOODBYE/ERROR the server closes its side first: disconnecting
 * while it still handles our last write has crashed spice-server 0.15.1. */
#define DISCONNECT_AFTER_SERVER_MS 1000

/* Tears everything down; emits "closed" once. */
static void
client_shutdown(SsbClient *client, int linger_ms)
{
    if (client->state == SSB_STATE_CLOSED)
        return;
    client->state = SSB_STATE_CLOSED;
    g_clear_handle_id(&client->welcome_timeout_id, g_source_remove);
    g_clear_handle_id(&client->offer_timeout_id, g_source_remove);
    ssb_client_keepalive_stop(client);
    ssb_client_local_stop(client);
    ssb_port_transport_destroy(g_steal_pointer(&client->port), linger_ms);
    g_clear_pointer(&client->watch, ssb_session_watch_free);
    for (guint i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        ssb_client_scanout_clear_local(client, &client->scanouts[i]);
        ssb_client_video_clear(client, &client->scanouts[i]);
    }
    g_signal_emit(client, signals[SIGNAL_CLOSED], 0);
}

static void
send_error(SsbClient *client, guint32 code, const char *message)
{
    struct ssb_msg msg = { .type = SSB_MSG_ERROR };
    g_autoptr(GError) error = NULL;

    msg.u.error.code = code;
    g_strlcpy(msg.u.error.reason, message, sizeof(msg.u.error.reason));
    if (client->link != NULL)
        ssb_local_link_send(client->link, &msg, NULL);
    if (client->port != NULL && !ssb_port_transport_send(client->port, &msg, &error))
        g_debug("ERROR not sent: %s", error->message);
}

void
ssb_client_fail(SsbClient *client, const GError *error, guint32 code)
{
    /* Handlers may drop the last reference to @client. */
    g_autoptr(SsbClient) self G_GNUC_UNUSED = g_object_ref(client);

    if (client->state == SSB_STATE_CLOSED)
        return;
    /* Log once; session-level failures are the application's to report. */
    if (error->code == SSB_CLIENT_ERROR_PROTOCOL || error->code == SSB_CLIENT_ERROR_PEER ||
        error->code == SSB_CLIENT_ERROR_VERSION)
        g_message("sideband closed: %s", error->message);
    else
        g_info("sideband closed: %s", error->message);
    if (code != SSB_ERROR_NONE)
        send_error(client, code, error->message);
    g_signal_emit(client, signals[SIGNAL_ERROR], 0, error);
    complete_ready_tasks(client, error);
    /* The server closes its side after any ERROR, ours or its own (spec 7);
     * then the channel goes.  A session that failed has no port to close. */
    client_shutdown(client, client->port != NULL ? DISCONNECT_AFTER_SERVER_MS : KEEP_CHANNEL);
}

void
ssb_client_emit_error(SsbClient *client, const GError *error)
{
    g_signal_emit(client, signals[SIGNAL_ERROR], 0, error);
}

void
ssb_client_fail_literal(SsbClient *client, SsbClientError domain_code, guint32 code,
                        const char *message)
{
    g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, domain_code, message);

    ssb_client_fail(client, error, code);
}

void
ssb_client_send_port(SsbClient *client, const struct ssb_msg *msg)
{
    g_autoptr(GError) error = NULL;

    if (client->port_sink != NULL) {
        client->port_sink(msg, client->port_sink_data);
        return;
    }
    if (client->port == NULL)
        return;
    if (!ssb_port_transport_send(client->port, msg, &error))
        ssb_client_fail(client, error, SSB_ERROR_INTERNAL);
}

void
ssb_client_deliver_frame(SsbClient *client, guint scanout_id, SsbFrame *frame)
{
    SsbScanout *scanout = &client->scanouts[scanout_id];
    /* Keeps the frame alive across handlers that take or replace it. */
    g_autoptr(SsbFrame) emitted = ssb_frame_ref(frame);

    /* Latest frame wins: an untaken older frame goes back to the server. */
    g_clear_pointer(&scanout->pending, ssb_frame_unref);
    scanout->pending = frame;
    scanout->path_name = ssb_frame_get_backing_name(frame);
    g_signal_emit(client, signals[SIGNAL_FRAME], 0, emitted);
}

/* ------------------------------------------------------------- session */

void
ssb_client_closed_by_peer(SsbClient *client, const char *message, gboolean session_gone)
{
    /* Handlers may drop the last reference to @client. */
    g_autoptr(SsbClient) self G_GNUC_UNUSED = g_object_ref(client);

    if (client->state == SSB_STATE_CLOSED)
        return;
    g_debug("sideband closed: %s", message);
    if (!client->ready_emitted) {
        g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED,
                                                      message);
        complete_ready_tasks(client, error);
    }
    client_shutdown(client, session_gone ? KEEP_CHANNEL : DISCONNECT_AFTER_SERVER_MS);
}

static void
session_failed(SsbClientError code, const char *message, gpointer user_data)
{
    /* The session went away: not an error of the sideband. */
    if (code == SSB_CLIENT_ERROR_CLOSED)
        ssb_client_closed_by_peer(user_data, message, TRUE);
    else
        ssb_client_fail_literal(user_data, code, SSB_ERROR_NONE, message);
}

static const SsbSessionCallbacks session_callbacks = {
    .port_found = ssb_client_port_found,
    .failed = session_failed,
};

/* ------------------------------------------------------------ public API */

SsbClient *
ssb_client_new(SpiceSession *session)
{
    g_return_val_if_fail(SPICE_IS_SESSION(session), NULL);
    return g_object_new(SSB_TYPE_CLIENT, "session", session, NULL);
}

void
ssb_client_set_dmabuf_formats(SsbClient *client, const SsbFormatModifier *formats,
                              guint n_formats)
{
    g_return_if_fail(SSB_IS_CLIENT(client));
    g_return_if_fail(formats != NULL || n_formats == 0);
    g_return_if_fail(n_formats <= SSB_PROTO_MAX_FORMATS);
    g_array_set_size(client->dmabuf_formats, 0);
    g_array_append_vals(client->dmabuf_formats, formats, n_formats);
}

gboolean
ssb_client_get_scanout(SsbClient *client, guint scanout_id, SsbScanoutInfo *info)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), FALSE);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || !client->scanouts[scanout_id].exists)
        return FALSE;
    if (info != NULL)
        *info = client->scanouts[scanout_id].info;
    return TRUE;
}

GArray *
ssb_client_list_scanouts(SsbClient *client)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));

    g_return_val_if_fail(SSB_IS_CLIENT(client), ids);
    for (guint i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        if (client->scanouts[i].exists)
            g_array_append_val(ids, i);
    }
    return ids;
}

const char *
ssb_client_get_path_name(SsbClient *client, guint scanout_id)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), "none");
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || client->scanouts[scanout_id].path_name == NULL)
        return "none";
    return client->scanouts[scanout_id].path_name;
}

SsbClientPath
ssb_client_get_path(SsbClient *client)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), SSB_CLIENT_PATH_NONE);
    return client->path;
}

SsbFrame *
ssb_client_take_frame(SsbClient *client, guint scanout_id)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), NULL);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || !client->scanouts[scanout_id].exists)
        return NULL;
    return g_steal_pointer(&client->scanouts[scanout_id].pending);
}

void
ssb_client_close(SsbClient *client)
{
    struct ssb_msg msg = { .type = SSB_MSG_GOODBYE };

    g_return_if_fail(SSB_IS_CLIENT(client));
    if (client->state == SSB_STATE_CLOSED)
        return;
    msg.u.goodbye.code = SSB_ERROR_SHUTDOWN;
    if (client->state == SSB_STATE_ACTIVE && client->port != NULL)
        ssb_port_transport_send(client->port, &msg, NULL);
    if (!client->ready_emitted) {
        g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED,
                                                      "closed before the sideband was ready");
        complete_ready_tasks(client, error);
    }
    client_shutdown(client, DISCONNECT_AFTER_SERVER_MS);
}

void
ssb_client_wait_ready_async(SsbClient *client, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(client, cancellable, callback, user_data);

    g_return_if_fail(SSB_IS_CLIENT(client));
    g_task_set_source_tag(task, ssb_client_wait_ready_async);
    if (client->ready_emitted) {
        g_task_return_boolean(task, TRUE);
    } else if (client->state == SSB_STATE_CLOSED) {
        g_task_return_new_error(task, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED,
                                "the sideband is closed");
    } else {
        g_task_set_check_cancellable(task, TRUE);
        client->ready_tasks = g_list_prepend(client->ready_tasks, g_steal_pointer(&task));
    }
}

gboolean
ssb_client_wait_ready_finish(SsbClient *client, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ------------------------------------------------------------- GObject */

static void
ssb_client_init(SsbClient *client)
{
    client->allow_local = TRUE;
    client->dmabuf_formats = g_array_new(FALSE, TRUE, sizeof(SsbFormatModifier));
    /* spice-client-glib runs on the global default context; so does this. */
    client->context = g_main_context_ref(g_main_context_default());
}

static void
ssb_client_constructed(GObject *object)
{
    SsbClient *client = SSB_CLIENT(object);

    G_OBJECT_CLASS(ssb_client_parent_class)->constructed(object);
    g_return_if_fail(client->session != NULL);
    client->watch = ssb_session_watch_new(client->session, &session_callbacks, client);
}

/* The last reference went: end the connection by disconnecting the port
 * channel.  No GOODBYE, because the application usually tears the session
 * down right after, and a GOODBYE racing the disconnect has crashed
 * spice-server 0.15.1 (see DISCONNECT_AFTER_SERVER_MS). */
static void
ssb_client_close_quietly(SsbClient *client)
{
    client_shutdown(client, client->state == SSB_STATE_ACTIVE ? DISCONNECT_NOW : KEEP_CHANNEL);
}

static void
ssb_client_dispose(GObject *object)
{
    SsbClient *client = SSB_CLIENT(object);

    if (client->state != SSB_STATE_CLOSED) {
        g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED,
                                                      "client disposed");
        complete_ready_tasks(client, error);
        ssb_client_close_quietly(client);
    }
    g_clear_object(&client->session);
    G_OBJECT_CLASS(ssb_client_parent_class)->dispose(object);
}

static void
ssb_client_finalize(GObject *object)
{
    SsbClient *client = SSB_CLIENT(object);

    g_array_unref(client->dmabuf_formats);
    g_main_context_unref(client->context);
    g_free(client->codec_pref);
    g_free(client->codec_allow);
    G_OBJECT_CLASS(ssb_client_parent_class)->finalize(object);
}

static void
ssb_client_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    SsbClient *client = SSB_CLIENT(object);

    switch (prop_id) {
    case PROP_SESSION:
        client->session = g_value_dup_object(value);
        break;
    case PROP_ALLOW_LOCAL:
        client->allow_local = g_value_get_boolean(value);
        break;
    case PROP_FORCE_REMOTE:
        client->force_remote = g_value_get_boolean(value);
        break;
    case PROP_CODEC:
        g_free(client->codec_pref);
        client->codec_pref = g_value_dup_string(value);
        break;
    case PROP_CODECS:
        g_free(client->codec_allow);
        client->codec_allow = g_value_dup_string(value);
        break;
    case PROP_DECODE_DELAY_MS:
        client->decode_delay_ms = g_value_get_uint(value);
        for (guint i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
            if (client->scanouts[i].video.decoder != NULL)
                ssb_decoder_set_delay(client->scanouts[i].video.decoder,
                                      client->decode_delay_ms);
        }
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
ssb_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    SsbClient *client = SSB_CLIENT(object);

    switch (prop_id) {
    case PROP_SESSION:
        g_value_set_object(value, client->session);
        break;
    case PROP_ALLOW_LOCAL:
        g_value_set_boolean(value, client->allow_local);
        break;
    case PROP_FORCE_REMOTE:
        g_value_set_boolean(value, client->force_remote);
        break;
    case PROP_CODEC:
        g_value_set_string(value, client->codec_pref);
        break;
    case PROP_CODECS:
        g_value_set_string(value, client->codec_allow);
        break;
    case PROP_DECODE_DELAY_MS:
        g_value_set_uint(value, client->decode_delay_ms);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
install_properties(GObjectClass *object_class)
{
    props[PROP_SESSION] = g_param_spec_object(
        "session", "Session", "The SPICE session (borrowed)", SPICE_TYPE_SESSION,
        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
    props[PROP_ALLOW_LOCAL] = g_param_spec_boolean(
        "allow-local", "Allow local", "Use the local socket when the server offers it", TRUE,
        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    props[PROP_FORCE_REMOTE] = g_param_spec_boolean(
        "force-remote", "Force remote", "Never ask for the local path", FALSE,
        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    props[PROP_CODEC] = g_param_spec_string(
        "codec", "Codec", "Preferred codec of the remote path (h264, vp8, vp9, av1, h265)",
        NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    props[PROP_CODECS] = g_param_spec_string(
        "codecs", "Codecs", "Comma-separated codecs the client may offer (NULL: all decodable)",
        NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    props[PROP_DECODE_DELAY_MS] = g_param_spec_uint(
        "decode-delay-ms", "Decode delay", "Testing only: extra time per decoded picture", 0,
        10000, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
install_signals(GObjectClass *klass)
{
    GType type = G_TYPE_FROM_CLASS(klass);

    signals[SIGNAL_READY] = g_signal_new("ready", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1, SSB_TYPE_CLIENT_PATH);
    signals[SIGNAL_SCANOUT_ADDED] = g_signal_new("scanout-added", type, G_SIGNAL_RUN_LAST, 0,
                                                 NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
    signals[SIGNAL_SCANOUT_RESIZED] = g_signal_new("scanout-resized", type, G_SIGNAL_RUN_LAST,
                                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                                   G_TYPE_UINT);
    signals[SIGNAL_SCANOUT_REMOVED] = g_signal_new("scanout-removed", type, G_SIGNAL_RUN_LAST,
                                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                                   G_TYPE_UINT);
    signals[SIGNAL_FRAME] = g_signal_new("frame", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1,
                                         SSB_TYPE_FRAME | G_SIGNAL_TYPE_STATIC_SCOPE);
    signals[SIGNAL_ERROR] = g_signal_new("error", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1,
                                         G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
    signals[SIGNAL_CLOSED] = g_signal_new("closed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

static void
ssb_client_class_init(SsbClientClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->constructed = ssb_client_constructed;
    object_class->dispose = ssb_client_dispose;
    object_class->finalize = ssb_client_finalize;
    object_class->set_property = ssb_client_set_property;
    object_class->get_property = ssb_client_get_property;
    install_properties(object_class);
    install_signals(object_class);
}

/* Emitters used by client-port.c. */
void
ssb_client_emit_scanout(SsbClient *client, guint which, guint scanout_id)
{
    static const guint map[] = { SIGNAL_SCANOUT_ADDED, SIGNAL_SCANOUT_RESIZED,
                                 SIGNAL_SCANOUT_REMOVED };

    g_return_if_fail(which < G_N_ELEMENTS(map));
    g_signal_emit(client, signals[map[which]], 0, scanout_id);
}
