/* Parsing of the viewer-style URIs the tools accept.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "uri.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 5900

static gboolean
uri_fail(GError **error, const char *uri, const char *why)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "bad URI \"%s\": %s (expected spice://HOST:PORT or spice+unix:///PATH)", uri,
                why);
    return FALSE;
}

static gboolean
parse_port(const char *text, guint *port)
{
    char *end = NULL;
    unsigned long value;

    if (text[0] < '0' || text[0] > '9')
        return FALSE;
    value = strtoul(text, &end, 10);
    if (*end != '\0' || value == 0 || value > 65535)
        return FALSE;
    *port = (guint)value;
    return TRUE;
}

/* "host", "host:port", "[v6]" or "[v6]:port" into @target. */
static gboolean
parse_authority(const char *uri, const char *authority, SsbUriTarget *target, GError **error)
{
    const char *port_text = NULL;

    target->port = DEFAULT_PORT;
    if (authority[0] == '[') {
        const char *close = strchr(authority, ']');
        if (close == NULL || close == authority + 1)
            return uri_fail(error, uri, "unterminated IPv6 address");
        target->host = g_strndup(authority + 1, (gsize)(close - authority - 1));
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return uri_fail(error, uri, "garbage after the IPv6 address");
    } else {
        const char *colon = strrchr(authority, ':');
        target->host = colon ? g_strndup(authority, (gsize)(colon - authority))
                             : g_strdup(authority);
        port_text = colon ? colon + 1 : NULL;
    }
    if (target->host[0] == '\0')
        return uri_fail(error, uri, "no host");
    if (port_text != NULL && !parse_port(port_text, &target->port))
        return uri_fail(error, uri, "bad port");
    return TRUE;
}

gboolean
ssb_uri_parse(const char *uri, SsbUriTarget *target, GError **error)
{
    static const char tcp[] = "spice://", unix_scheme[] = "spice+unix://";
    g_autofree char *authority = NULL;

    memset(target, 0, sizeof(*target));
    if (g_str_has_prefix(uri, unix_scheme)) {
        const char *path = uri + strlen(unix_scheme);
        if (path[0] != '/' || path[1] == '\0')
            return uri_fail(error, uri, "the unix socket path must be absolute");
        target->unix_path = g_strdup(path);
        return TRUE;
    }
    if (!g_str_has_prefix(uri, tcp))
        return uri_fail(error, uri, "unknown scheme");
    authority = g_strdup(uri + strlen(tcp));
    /* A trailing slash is harmless; a path or query is not supported. */
    if (g_str_has_suffix(authority, "/"))
        authority[strlen(authority) - 1] = '\0';
    if (strpbrk(authority, "/?#@") != NULL)
        return uri_fail(error, uri, "paths, queries and user names are not supported");
    return parse_authority(uri, authority, target, error);
}

void
ssb_uri_target_clear(SsbUriTarget *target)
{
    g_clear_pointer(&target->host, g_free);
    g_clear_pointer(&target->unix_path, g_free);
}
