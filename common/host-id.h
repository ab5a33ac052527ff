/* Host identity for the local offer (spec 4.4).
 *
 * host_id = SHA-256(machine_id || boot_id), where machine_id is the content
 * of /etc/machine-id (else, if that cannot be read, /var/lib/dbus/machine-id)
 * and boot_id that of /proc/sys/kernel/random/boot_id, each with trailing
 * whitespace removed, no separator; both are required.  A client computes
 * the same bytes to tell whether it runs on the server's host (and boot)
 * before it tries the local socket.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_HOST_ID_H
#define SSB_HOST_ID_H

#include <stdint.h>

#include "spice-sideband/proto.h"

/* Computes this host's id into @out.  Returns 0 or -errno (no boot id). */
int ssb_host_id_get(uint8_t out[SSB_PROTO_HOST_ID_SIZE]);

/* The same from explicit files (for tests).  Paths borrowed.  Returns
 * -ENOENT when either cannot be read or is empty. */
int ssb_host_id_from_files(const char *machine_id_path, const char *boot_id_path,
                           uint8_t out[SSB_PROTO_HOST_ID_SIZE]);

#endif /* SSB_HOST_ID_H */
