/* Host identity (see host-id.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "host-id.h"

/* The file's content without trailing whitespace, or NULL. */
static char *
read_trimmed(const char *path)
{
    char *text = NULL;

    if (!path || !g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strchomp(text);
}

int
ssb_host_id_from_files(const char *machine_id_path, const char *boot_id_path,
                       uint8_t out[SSB_PROTO_HOST_ID_SIZE])
{
    g_autofree char *machine_id = read_trimmed(machine_id_path);
    g_autofree char *boot_id = read_trimmed(boot_id_path);
    g_autoptr(GChecksum) sum = NULL;
    gsize len = SSB_PROTO_HOST_ID_SIZE;

    if (!machine_id || !*machine_id || !boot_id || !*boot_id)
        return -ENOENT;
    sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)machine_id, (gssize)strlen(machine_id));
    g_checksum_update(sum, (const guchar *)boot_id, (gssize)strlen(boot_id));
    g_checksum_get_digest(sum, out, &len);
    return len == SSB_PROTO_HOST_ID_SIZE ? 0 : -EIO;
}

int
ssb_host_id_get(uint8_t out[SSB_PROTO_HOST_ID_SIZE])
{
    const char *boot_id = "/proc/sys/kernel/random/boot_id";

    if (ssb_host_id_from_files("/etc/machine-id", boot_id, out) == 0)
        return 0;
    return ssb_host_id_from_files("/var/lib/dbus/machine-id", boot_id, out);
}
