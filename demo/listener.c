/* Listening sockets for the demo VMM: see listener.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "listener.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* After accept() fails for lack of fds or memory, rest this long: the
 * pending connection keeps the socket readable, and the watch would spin. */
#define ACCEPT_BACKOFF_MS 100
/* At most one accept failure logged per this many seconds. */
#define ACCEPT_LOG_INTERVAL_S 10

struct demo_listener {
    int fd;              /* non-blocking */
    char *path;          /* unix: the file we created */
    char *uri;
    guint watch;         /* 0 while backing off */
    guint backoff;       /* timer that re-adds the watch */
    gint64 logged_us;    /* last accept failure logged */
    SpiceServer *spice;
};

bool
demo_endpoint_parse(const char *spec, struct demo_endpoint *ep, char **error)
{
    memset(ep, 0, sizeof(*ep));
    if (g_str_has_prefix(spec, "unix:")) {
        const char *path = spec + 5;
        struct sockaddr_un sun;

        if (!*path) {
            *error = g_strdup_printf("--listen %s: empty path", spec);
            return false;
        }
        if (strlen(path) >= sizeof(sun.sun_path)) {
            *error = g_strdup_printf("--listen %s: path longer than %zu bytes", spec,
                                     sizeof(sun.sun_path) - 1);
            return false;
        }
        ep->is_unix = true;
        ep->path = g_strdup(path);
        return true;
    }
    if (g_str_has_prefix(spec, "tcp:")) {
        const char *hostport = spec + 4, *colon = strrchr(hostport, ':');
        char *end;

        if (!colon || colon == hostport || !colon[1]) {
            *error = g_strdup_printf("--listen %s: expected tcp:HOST:PORT", spec);
            return false;
        }
        errno = 0;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (errno || *end || port > 65535 || colon[1] == '-' || colon[1] == '+') {
            *error = g_strdup_printf("--listen %s: bad port '%s' (0..65535)", spec, colon + 1);
            return false;
        }
        ep->host = g_strndup(hostport, (gsize)(colon - hostport));
        if (ep->host[0] == '[' && ep->host[strlen(ep->host) - 1] == ']') {
            char *bare = g_strndup(ep->host + 1, strlen(ep->host) - 2);
            g_free(ep->host);
            ep->host = bare;
        }
        ep->port = g_strdup_printf("%lu", port);
        return true;
    }
    *error = g_strdup_printf("--listen %s: expected tcp:HOST:PORT or unix:PATH", spec);
    return false;
}

void
demo_endpoint_clear(struct demo_endpoint *ep)
{
    g_clear_pointer(&ep->host, g_free);
    g_clear_pointer(&ep->port, g_free);
    g_clear_pointer(&ep->path, g_free);
}

/* A socket file nobody listens on is left over from a crash: reuse it. */
static bool
unix_path_usable(const char *path, char **error)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return true;
    if (!S_ISSOCK(st.st_mode)) {
        *error = g_strdup_printf("unix:%s exists and is not a socket", path);
        return false;
    }

    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live;

    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    live = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    if (fd >= 0)
        close(fd);
    if (live) {
        *error = g_strdup_printf("unix:%s is in use by another server", path);
        return false;
    }
    if (unlink(path) != 0) {
        *error = g_strdup_printf("unix:%s: cannot remove the stale socket: %s", path,
                                 g_strerror(errno));
        return false;
    }
    return true;
}

static int
open_unix(const struct demo_endpoint *ep, char **error)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd;

    if (!unix_path_usable(ep->path, error))
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        *error = g_strdup_printf("unix:%s: socket: %s", ep->path, g_strerror(errno));
        return -1;
    }
    g_strlcpy(sun.sun_path, ep->path, sizeof(sun.sun_path));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || listen(fd, 8) != 0) {
        *error = g_strdup_printf("unix:%s: cannot listen: %s", ep->path, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int
open_tcp(const struct demo_endpoint *ep, char **uri, char **error)
{
    struct addrinfo hints = {
        .ai_flags = AI_PASSIVE | AI_ADDRCONFIG,
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
    }, *res, *ai;
    int rc = getaddrinfo(ep->host, ep->port, &hints, &res), fd = -1, err = 0;

    if (rc != 0) {
        *error = g_strdup_printf("tcp:%s:%s: %s", ep->host, ep->port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int on = 1;

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        *error = err == EADDRINUSE
                     ? g_strdup_printf("tcp:%s:%s: address already in use", ep->host, ep->port)
                     : g_strdup_printf("tcp:%s:%s: cannot listen: %s", ep->host, ep->port,
                                       g_strerror(err));
        return -1;
    }

    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        *error = g_strdup_printf("tcp:%s:%s: getsockname: %s", ep->host, ep->port,
                                 g_strerror(errno));
        close(fd);
        return -1;
    }
    *uri = ss.ss_family == AF_INET6 ? g_strdup_printf("spice://[%s]:%s", host, port)
                                    : g_strdup_printf("spice://%s:%s", host, port);
    return fd;
}

struct demo_listener *
demo_listener_open(const struct demo_endpoint *ep, char **error)
{
    char *uri = NULL;
    int fd = ep->is_unix ? open_unix(ep, error) : open_tcp(ep, &uri, error);

    if (fd < 0)
        return NULL;

    struct demo_listener *listener = g_new0(struct demo_listener, 1);
    listener->fd = fd;
    if (ep->is_unix) {
        char *abs = g_canonicalize_filename(ep->path, NULL);

        listener->path = g_strdup(ep->path);
        listener->uri = g_strdup_printf("spice+unix://%s", abs);
        g_free(abs);
    } else {
        listener->uri = uri;
    }
    return listener;
}

static gboolean on_accept(gint fd, GIOCondition condition, gpointer user_data);

static void
log_accept_failure(struct demo_listener *listener, int err)
{
    gint64 now = g_get_monotonic_time();

    if (listener->logged_us && now - listener->logged_us < ACCEPT_LOG_INTERVAL_S * G_USEC_PER_SEC)
        return;
    listener->logged_us = now;
    g_warning("accept on %s: %s", listener->uri, g_strerror(err));
}

static gboolean
accept_resume(gpointer user_data)
{
    struct demo_listener *listener = user_data;

    listener->backoff = 0;
    listener->watch = g_unix_fd_add(listener->fd, G_IO_IN, on_accept, listener);
    return G_SOURCE_REMOVE;
}

static gboolean
on_accept(gint fd, GIOCondition condition, gpointer user_data)
{
    struct demo_listener *listener = user_data;
    int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (client < 0) {
        int err = errno;

        /* Gone before we got to it, or nothing there: nothing to say. */
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED ||
            err == EPROTO)
            return G_SOURCE_CONTINUE;
        log_accept_failure(listener, err);
        if (err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS) {
            listener->watch = 0;
            listener->backoff = g_timeout_add(ACCEPT_BACKOFF_MS, accept_resume, listener);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
    /* spice-server owns the fd from here, unless it fails. */
    if (spice_server_add_client(listener->spice, client, 0) < 0) {
        g_warning("spice-server refused a connection on %s", listener->uri);
        close(client);
    }
    return G_SOURCE_CONTINUE;
}

void
demo_listener_start(struct demo_listener *listener, SpiceServer *spice)
{
    listener->spice = spice;
    listener->watch = g_unix_fd_add(listener->fd, G_IO_IN, on_accept, listener);
}

const char *
demo_listener_uri(const struct demo_listener *listener)
{
    return listener->uri;
}

void
demo_listener_close(struct demo_listener *listener)
{
    if (!listener)
        return;
    if (listener->watch)
        g_source_remove(listener->watch);
    if (listener->backoff)
        g_source_remove(listener->backoff);
    close(listener->fd);
    if (listener->path)
        unlink(listener->path);
    g_free(listener->path);
    g_free(listener->uri);
    g_free(listener);
}
