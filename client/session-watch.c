/* Finds the sideband port in a SpiceSession.
 *
 * A port's name is known only once the channel is connected, so every
 * SpicePortChannel gets spice_channel_connect() and a notify::port-name
 * watch.  A port that turns out to be another one (webdav, ...) and that
 * nobody but the watch connected is disconnected again: the guest would see
 * a client on a port nobody asked for.  The main channel's events tell an unreachable server or a refused
 * password apart; a server that lists no sideband port within
 * NO_SIDEBAND_TIMEOUT_MS of the main channel opening has none.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <string.h>

#define NO_SIDEBAND_TIMEOUT_MS 3000

/* Set on a port channel the watch itself connected (data: the watch). */
#define CONNECTED_BY_WATCH "ssb-session-watch-connected"

struct _SsbSessionWatch {
    SpiceSession *session;        /* owned reference */
    SsbSessionCallbacks callbacks;
    gpointer user_data;
    GPtrArray *ports;             /* SpiceChannel* watched, owned references */
    GPtrArray *unwanted;          /* SpiceChannel* to disconnect, owned references */
    guint unwanted_id;            /* idle that disconnects them */
    SpiceChannel *main_channel;   /* owned reference */
    gulong channel_new_id, channel_destroy_id, disconnected_id, main_event_id;
    guint no_sideband_id;
    gboolean found;
};

static void
watch_fail(SsbSessionWatch *watch, SsbClientError code, const char *message)
{
    g_clear_handle_id(&watch->no_sideband_id, g_source_remove);
    if (watch->callbacks.failed != NULL)
        watch->callbacks.failed(code, message, watch->user_data);
}

static gboolean
disconnect_unwanted(gpointer user_data)
{
    SsbSessionWatch *watch = user_data;

    watch->unwanted_id = 0;
    for (guint i = 0; i < watch->unwanted->len; i++)
        spice_channel_disconnect(watch->unwanted->pdata[i], SPICE_CHANNEL_NONE);
    g_ptr_array_set_size(watch->unwanted, 0);
    return G_SOURCE_REMOVE;
}

/* Disconnects @channel, another port than ours, if only the watch wanted
 * it: from an idle, not from inside the channel's own notify. */
static void
drop_other_port(SpiceChannel *channel, SsbSessionWatch *watch)
{
    if (g_object_get_data(G_OBJECT(channel), CONNECTED_BY_WATCH) != watch)
        return;
    g_object_set_data(G_OBJECT(channel), CONNECTED_BY_WATCH, NULL);
    g_ptr_array_add(watch->unwanted, g_object_ref(channel));
    if (watch->unwanted_id == 0)
        watch->unwanted_id = g_idle_add(disconnect_unwanted, watch);
}

static void
check_port_name(SpiceChannel *channel, SsbSessionWatch *watch)
{
    g_autofree char *name = NULL;

    g_object_get(channel, "port-name", &name, NULL);
    if (name == NULL)
        return;
    if (strcmp(name, SSB_PORT_NAME) != 0) {
        drop_other_port(channel, watch);
        return;
    }
    if (watch->found)
        return;
    watch->found = TRUE;
    g_clear_handle_id(&watch->no_sideband_id, g_source_remove);
    watch->callbacks.port_found(SPICE_PORT_CHANNEL(channel), watch->user_data);
}

static void
port_name_changed(GObject *channel, GParamSpec *pspec, gpointer user_data)
{
    check_port_name(SPICE_CHANNEL(channel), user_data);
}

static gboolean
no_sideband_timeout(gpointer user_data)
{
    SsbSessionWatch *watch = user_data;

    watch->no_sideband_id = 0;
    watch_fail(watch, SSB_CLIENT_ERROR_NO_SIDEBAND,
               "the server offers no sideband port (" SSB_PORT_NAME ")");
    return G_SOURCE_REMOVE;
}

static void
main_channel_event(SpiceChannel *channel, SpiceChannelEvent event, gpointer user_data)
{
    SsbSessionWatch *watch = user_data;
    const GError *error = spice_channel_get_error(channel);
    g_autofree char *text = NULL;

    switch (event) {
    case SPICE_CHANNEL_OPENED:
        if (!watch->found && watch->no_sideband_id == 0)
            watch->no_sideband_id = g_timeout_add(NO_SIDEBAND_TIMEOUT_MS,
                                                  no_sideband_timeout, watch);
        return;
    case SPICE_CHANNEL_ERROR_AUTH:
        text = g_strdup_printf("authentication failed%s%s", error ? ": " : "",
                               error ? error->message : "");
        watch_fail(watch, SSB_CLIENT_ERROR_AUTH, text);
        return;
    case SPICE_CHANNEL_ERROR_CONNECT:
    case SPICE_CHANNEL_ERROR_TLS:
    case SPICE_CHANNEL_ERROR_LINK:
    case SPICE_CHANNEL_ERROR_IO:
        text = g_strdup_printf("cannot connect to the server%s%s", error ? ": " : "",
                               error ? error->message : "");
        watch_fail(watch, SSB_CLIENT_ERROR_CONNECT, text);
        return;
    case SPICE_CHANNEL_CLOSED:
        watch_fail(watch, SSB_CLIENT_ERROR_CLOSED, "the SPICE session closed");
        return;
    default:
        return;
    }
}

static void
watch_channel(SsbSessionWatch *watch, SpiceChannel *channel)
{
    if (SPICE_IS_MAIN_CHANNEL(channel) && watch->main_channel == NULL) {
        watch->main_channel = g_object_ref(channel);
        watch->main_event_id = g_signal_connect(channel, "channel-event",
                                                G_CALLBACK(main_channel_event), watch);
        return;
    }
    if (!SPICE_IS_PORT_CHANNEL(channel))
        return;
    g_autofree char *name = NULL;

    g_ptr_array_add(watch->ports, g_object_ref(channel));
    g_signal_connect(channel, "notify::port-name", G_CALLBACK(port_name_changed), watch);
    g_object_get(channel, "port-name", &name, NULL);
    /* A name is known only once connected; connecting twice warns. */
    if (name == NULL) {
        g_object_set_data(G_OBJECT(channel), CONNECTED_BY_WATCH, watch);
        spice_channel_connect(channel);
    } else
        check_port_name(channel, watch);
}

static void
channel_new(SpiceSession *session, SpiceChannel *channel, gpointer user_data)
{
    watch_channel(user_data, channel);
}

static void
channel_destroy(SpiceSession *session, SpiceChannel *channel, gpointer user_data)
{
    SsbSessionWatch *watch = user_data;

    if (g_ptr_array_find(watch->ports, channel, NULL)) {
        g_signal_handlers_disconnect_by_data(channel, watch);
        g_ptr_array_remove(watch->ports, channel);
    }
}

static void
session_disconnected(SpiceSession *session, gpointer user_data)
{
    watch_fail(user_data, SSB_CLIENT_ERROR_CLOSED, "the SPICE session was disconnected");
}

SsbSessionWatch *
ssb_session_watch_new(SpiceSession *session, const SsbSessionCallbacks *callbacks,
                      gpointer user_data)
{
    SsbSessionWatch *watch = g_new0(SsbSessionWatch, 1);
    GList *channels = spice_session_get_channels(session);

    watch->session = g_object_ref(session);
    watch->callbacks = *callbacks;
    watch->user_data = user_data;
    watch->ports = g_ptr_array_new_with_free_func(g_object_unref);
    watch->unwanted = g_ptr_array_new_with_free_func(g_object_unref);
    watch->channel_new_id = g_signal_connect(session, "channel-new", G_CALLBACK(channel_new),
                                             watch);
    watch->channel_destroy_id = g_signal_connect(session, "channel-destroy",
                                                 G_CALLBACK(channel_destroy), watch);
    watch->disconnected_id = g_signal_connect(session, "disconnected",
                                              G_CALLBACK(session_disconnected), watch);
    for (GList *l = channels; l != NULL && !watch->found; l = l->next)
        watch_channel(watch, l->data);
    g_list_free(channels);
    return watch;
}

void
ssb_session_watch_free(SsbSessionWatch *watch)
{
    if (watch == NULL)
        return;
    watch->callbacks = (SsbSessionCallbacks){ NULL };
    g_clear_handle_id(&watch->no_sideband_id, g_source_remove);
    /* Still disconnect the ports we asked for and do not want. */
    if (watch->unwanted_id != 0) {
        g_clear_handle_id(&watch->unwanted_id, g_source_remove);
        disconnect_unwanted(watch);
    }
    g_ptr_array_unref(watch->unwanted);
    for (guint i = 0; i < watch->ports->len; i++) {
        g_signal_handlers_disconnect_by_data(watch->ports->pdata[i], watch);
        if (g_object_get_data(G_OBJECT(watch->ports->pdata[i]), CONNECTED_BY_WATCH) == watch)
            g_object_set_data(G_OBJECT(watch->ports->pdata[i]), CONNECTED_BY_WATCH, NULL);
    }
    g_ptr_array_unref(watch->ports);
    if (watch->main_channel != NULL) {
        g_clear_signal_handler(&watch->main_event_id, watch->main_channel);
        g_object_unref(watch->main_channel);
    }
    g_clear_signal_handler(&watch->channel_new_id, watch->session);
    g_clear_signal_handler(&watch->channel_destroy_id, watch->session);
    g_clear_signal_handler(&watch->disconnected_id, watch->session);
    g_object_unref(watch->session);
    g_free(watch);
}
